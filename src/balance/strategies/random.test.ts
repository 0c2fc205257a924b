import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../random.js';
import { chiSquare, fakeMembers, request, tally } from '../testing/fake.js';
import { RandomBalancer } from './random.js';

// Chi-square critical values at p = 0.001, by degrees of freedom.
const CRITICAL = { 3: 16.27, 4: 18.47 } as const;

describe('random', () => {
  test('picks every member with the same probability (chi-square)', () => {
    const members = fakeMembers(5);
    const balancer = new RandomBalancer(seededRandom(1));
    const picks = 50_000;
    const counts = tally(Array.from({ length: picks }, () => balancer.pick(members, request())));
    const observed = members.map((m) => counts.get(m.name) ?? 0);
    assert.ok(chiSquare(observed, Array(5).fill(picks / 5)) < CRITICAL[4], String(observed));
  });

  test('stays uniform over the accepted members when most are unavailable', () => {
    const members = fakeMembers(40);
    const open = [3, 17, 25, 39];
    members.forEach((m, i) => (m.blocked = open.includes(i) ? undefined : 'unhealthy'));
    const balancer = new RandomBalancer(seededRandom(2));
    const picks = 20_000;
    const counts = tally(Array.from({ length: picks }, () => balancer.pick(members, request())));
    assert.deepEqual([...counts.keys()].sort(), ['m17', 'm25', 'm3', 'm39']);
    const observed = open.map((i) => counts.get(`m${i}`)!);
    assert.ok(chiSquare(observed, Array(4).fill(picks / 4)) < CRITICAL[3], String(observed));
  });

  test('returns undefined when no member is accepted', () => {
    const members = fakeMembers(3);
    for (const member of members) member.blocked = 'draining';
    assert.equal(new RandomBalancer(seededRandom(3)).pick(members, request()), undefined);
  });
});
