import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeMember, fakeMembers, request, tally } from '../testing/fake.js';
import { LeastConnectionsBalancer } from './least-connections.js';

describe('least-connections', () => {
  test('favours the idle member', () => {
    const members = fakeMembers(3);
    members[0]!.inFlight = 3;
    members[2]!.inFlight = 2;
    const balancer = new LeastConnectionsBalancer();
    for (let i = 0; i < 5; i++) assert.equal(balancer.pick(members, request())?.name, 'm1');
  });

  test('picks the member with the fewest in flight when none is idle', () => {
    const members = fakeMembers(4);
    [5, 2, 7, 3].forEach((n, i) => (members[i]!.inFlight = n));
    assert.equal(new LeastConnectionsBalancer().pick(members, request())?.name, 'm1');
  });

  test('shares ties in turn', () => {
    const members = fakeMembers(4);
    const balancer = new LeastConnectionsBalancer();
    const counts = tally(Array.from({ length: 400 }, () => balancer.pick(members, request())));
    assert.deepEqual([...counts.values()], [100, 100, 100, 100]);
  });

  test('evens out in-flight counts as requests pile up', () => {
    const members = fakeMembers(3);
    members[0]!.inFlight = 6;
    const balancer = new LeastConnectionsBalancer();
    for (let i = 0; i < 12; i++) balancer.pick(members, request())!.inFlight++;
    assert.deepEqual(
      members.map((m) => m.inFlight),
      [6, 6, 6],
    );
  });

  test('counts in-flight per unit of weight', () => {
    const heavy = new FakeMember('heavy', { weight: 3 });
    const light = new FakeMember('light', { weight: 1 });
    heavy.inFlight = 2; // 0.67 per unit
    light.inFlight = 1; // 1 per unit
    assert.equal(new LeastConnectionsBalancer().pick([light, heavy], request()), heavy);
  });

  test('ignores members that are not accepted, however idle', () => {
    const members = fakeMembers(2);
    members[0]!.blocked = 'unhealthy';
    members[1]!.inFlight = 50;
    assert.equal(new LeastConnectionsBalancer().pick(members, request())?.name, 'm1');
  });
});
