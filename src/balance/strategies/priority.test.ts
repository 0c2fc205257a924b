import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeMember, request, tally } from '../testing/fake.js';
import { PriorityBalancer } from './priority.js';

function tiers(): FakeMember[] {
  return [
    new FakeMember('backup', { priority: 1 }),
    new FakeMember('main-a', { priority: 10 }),
    new FakeMember('spare', { priority: 5 }),
    new FakeMember('main-b', { priority: 10 }),
  ];
}

function picks(balancer: PriorityBalancer, members: FakeMember[], count: number) {
  return tally(Array.from({ length: count }, () => balancer.pick(members, request())));
}

describe('priority', () => {
  test('sends every call to the highest priority while it is available, in turn', () => {
    const members = tiers();
    const counts = picks(new PriorityBalancer(), members, 100);
    assert.deepEqual(Object.fromEntries(counts), { 'main-a': 50, 'main-b': 50 });
  });

  test('fails over to the next priority down when the top one is unavailable', () => {
    const members = tiers();
    const balancer = new PriorityBalancer();
    members[1]!.blocked = 'circuit-open';
    members[3]!.blocked = 'unhealthy';
    assert.deepEqual(Object.fromEntries(picks(balancer, members, 10)), { spare: 10 });
    members[2]!.blocked = 'draining';
    assert.deepEqual(Object.fromEntries(picks(balancer, members, 10)), { backup: 10 });
  });

  test('comes back to the higher priority as soon as it is available again', () => {
    const members = tiers();
    const balancer = new PriorityBalancer();
    members[1]!.blocked = 'circuit-open';
    members[3]!.blocked = 'circuit-open';
    assert.equal(balancer.pick(members, request())?.name, 'spare');
    members[3]!.blocked = undefined;
    assert.deepEqual(Object.fromEntries(picks(balancer, members, 5)), { 'main-b': 5 });
  });

  test('skips a tried member within its tier before going down', () => {
    const members = tiers();
    const tried = members[1]!;
    const untried = request({ accepts: (c) => c.available && c !== tried });
    assert.equal(new PriorityBalancer().pick(members, untried)?.name, 'main-b');
  });

  test('returns undefined when no member is available', () => {
    const members = tiers();
    for (const member of members) member.blocked = 'disabled';
    assert.equal(new PriorityBalancer().pick(members, request()), undefined);
  });

  test('takes new priorities after update()', () => {
    const members = tiers();
    const balancer = new PriorityBalancer();
    balancer.pick(members, request());
    members[0]!.priority = 99;
    balancer.update(members);
    assert.equal(balancer.pick(members, request())?.name, 'backup');
  });
});
