import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fakeMembers, request, tally } from '../testing/fake.js';
import { RoundRobinBalancer } from './round-robin.js';

describe('round-robin', () => {
  test('gives each of n members k picks over n·k picks', () => {
    for (const n of [1, 3, 7]) {
      const members = fakeMembers(n);
      const balancer = new RoundRobinBalancer();
      const k = 100;
      const counts = tally(Array.from({ length: n * k }, () => balancer.pick(members, request())));
      assert.equal(counts.size, n);
      for (const count of counts.values()) assert.ok(Math.abs(count - k) <= 1);
    }
  });

  test('takes members in their order', () => {
    const members = fakeMembers(3);
    const balancer = new RoundRobinBalancer();
    const names = Array.from({ length: 6 }, () => balancer.pick(members, request())?.name);
    assert.deepEqual(names, ['m0', 'm1', 'm2', 'm0', 'm1', 'm2']);
  });

  test('skips members the request does not accept and keeps the turn', () => {
    const members = fakeMembers(4);
    members[1]!.blocked = 'circuit-open';
    const balancer = new RoundRobinBalancer();
    const names = Array.from({ length: 6 }, () => balancer.pick(members, request())?.name);
    assert.deepEqual(names, ['m0', 'm2', 'm3', 'm0', 'm2', 'm3']);
  });

  test('returns undefined when no member is accepted', () => {
    const members = fakeMembers(3);
    for (const member of members) member.blocked = 'disabled';
    assert.equal(new RoundRobinBalancer().pick(members, request()), undefined);
    assert.equal(new RoundRobinBalancer().pick([], request()), undefined);
  });

  test('stays even when the member list shrinks', () => {
    const balancer = new RoundRobinBalancer();
    const five = fakeMembers(5);
    for (let i = 0; i < 4; i++) balancer.pick(five, request());
    const two = five.slice(0, 2);
    const counts = tally(Array.from({ length: 10 }, () => balancer.pick(two, request())));
    assert.deepEqual([...counts.values()], [5, 5]);
  });
});
