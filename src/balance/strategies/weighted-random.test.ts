import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../random.js';
import { chiSquare, FakeMember, request, tally } from '../testing/fake.js';
import { WeightedRandomBalancer } from './weighted-random.js';

const CRITICAL_DF2 = 13.82; // chi-square, p = 0.001
const CRITICAL_DF3 = 16.27;

function weighted(weights: number[]): FakeMember[] {
  return weights.map((weight, i) => new FakeMember(`m${i}`, { weight }));
}

function observe(balancer: WeightedRandomBalancer, members: FakeMember[], picks: number) {
  const counts = tally(Array.from({ length: picks }, () => balancer.pick(members, request())));
  return members.map((m) => counts.get(m.name) ?? 0);
}

describe('weighted-random', () => {
  test('picks members in proportion to their weights (chi-square)', () => {
    const members = weighted([1, 2, 3, 4]);
    const picks = 100_000;
    const observed = observe(new WeightedRandomBalancer(seededRandom(7)), members, picks);
    const expected = [1, 2, 3, 4].map((w) => (picks * w) / 10);
    assert.ok(chiSquare(observed, expected) < CRITICAL_DF3, String(observed));
  });

  test('keeps the proportions among the accepted members when one is unavailable', () => {
    const members = weighted([1, 2, 3, 4]);
    members[3]!.blocked = 'circuit-open';
    const picks = 60_000;
    const observed = observe(new WeightedRandomBalancer(seededRandom(8)), members, picks);
    assert.equal(observed[3], 0);
    const expected = [1, 2, 3].map((w) => (picks * w) / 6);
    assert.ok(chiSquare(observed.slice(0, 3), expected) < CRITICAL_DF2, String(observed));
  });

  test('never picks a member of weight 0 while a weighted one is accepted', () => {
    const members = weighted([0, 1, 0]);
    const observed = observe(new WeightedRandomBalancer(seededRandom(9)), members, 1_000);
    assert.deepEqual(observed, [0, 1_000, 0]);
  });

  test('picks uniformly when every accepted member weighs 0', () => {
    const members = weighted([5, 0, 0]);
    members[0]!.blocked = 'unhealthy';
    const observed = observe(new WeightedRandomBalancer(seededRandom(10)), members, 10_000);
    assert.equal(observed[0], 0);
    assert.ok(observed[1]! > 4_500 && observed[2]! > 4_500, String(observed));
  });

  test('uses new weights after update()', () => {
    const members = weighted([1, 1]);
    const balancer = new WeightedRandomBalancer(seededRandom(11));
    observe(balancer, members, 10);
    members[0]!.weight = 9;
    balancer.update(members);
    const observed = observe(balancer, members, 10_000);
    assert.ok(observed[0]! > 8_700 && observed[0]! < 9_300, String(observed));
  });
});
