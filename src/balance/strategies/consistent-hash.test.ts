import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isConfigError } from '../../errors.js';
import { seededRandom } from '../random.js';
import { createBalancer } from '../registry.js';
import { FakeMember, fakeMembers, request } from '../testing/fake.js';
import { ConsistentHashBalancer } from './consistent-hash.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function countNames(names: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function owners(balancer: ConsistentHashBalancer, members: FakeMember[]): string[] {
  return KEYS.map((key) => balancer.pick(members, request({ key }))!.name);
}

describe('consistent-hash', () => {
  test('sends the same key to the same member every time', () => {
    const members = fakeMembers(5);
    const balancer = new ConsistentHashBalancer();
    const first = balancer.pick(members, request({ key: 'order-42' }));
    for (let i = 0; i < 100; i++) {
      assert.equal(balancer.pick(members, request({ key: 'order-42' })), first);
    }
    // A new balancer with the same members agrees: the ring depends on names only.
    assert.equal(new ConsistentHashBalancer().pick(members, request({ key: 'order-42' })), first);
  });

  test('spreads keys evenly over members', () => {
    const counts = countNames(owners(new ConsistentHashBalancer(), fakeMembers(4)));
    for (const count of counts.values()) assert.ok(count > 2_000 && count < 3_000, String(count));
  });

  test('moves close to 1/5 of 10,000 keys, all to the new member, when a fifth joins four', () => {
    const balancer = new ConsistentHashBalancer();
    const four = fakeMembers(4);
    const before = owners(balancer, four);
    const five = [...four, new FakeMember('m4')];
    balancer.update(five);
    const after = owners(balancer, five);
    const moved = KEYS.filter((_, i) => before[i] !== after[i]);
    const fraction = moved.length / KEYS.length;
    assert.ok(fraction > 0.12 && fraction < 0.28, `moved ${fraction}`);
    for (const key of moved) assert.equal(after[KEYS.indexOf(key)], 'm4');
  });

  test('gives a member twice the keys for twice the weight', () => {
    const members = [new FakeMember('a', { weight: 2 }), new FakeMember('b'), new FakeMember('c')];
    const counts = countNames(owners(new ConsistentHashBalancer(), members));
    assert.ok(counts.get('a')! > 4_300 && counts.get('a')! < 5_700, String([...counts]));
  });

  test("passes an unavailable member's keys to other members, and only those", () => {
    const members = fakeMembers(4);
    const balancer = new ConsistentHashBalancer();
    const before = owners(balancer, members);
    members[1]!.blocked = 'circuit-open';
    const during = owners(balancer, members);
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === 'm1') assert.notEqual(during[i], 'm1');
      else assert.equal(during[i], before[i]);
    }
    members[1]!.blocked = undefined;
    assert.deepEqual(owners(balancer, members), before);
  });

  test('fails over from a tried member to the same next member each time', () => {
    const members = fakeMembers(4);
    const balancer = new ConsistentHashBalancer();
    const home = balancer.pick(members, request({ key: 'cart-7' }))!;
    const notHome = request({ key: 'cart-7', accepts: (c) => c.available && c !== home });
    const next = balancer.pick(members, notHome)!;
    assert.notEqual(next, home);
    for (let i = 0; i < 10; i++) assert.equal(balancer.pick(members, notHome), next);
  });

  test('goes round robin when the call has no key', () => {
    const members = fakeMembers(3);
    const balancer = new ConsistentHashBalancer();
    const names = Array.from({ length: 6 }, () => balancer.pick(members, request())?.name);
    assert.deepEqual(names, ['m0', 'm1', 'm2', 'm0', 'm1', 'm2']);
  });

  test('with bounded load, no member holds more than (1+ε) × the average in flight under skewed keys', () => {
    const epsilon = 0.25;
    const members = fakeMembers(5);
    const balancer = new ConsistentHashBalancer({ boundedLoad: epsilon });
    const random = seededRandom(12);
    const running: FakeMember[] = [];
    const hotMembers = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      // Half of the requests carry one hot key; the rest are spread.
      const key = random() < 0.5 ? 'hot' : `k${Math.floor(random() * 1_000)}`;
      const total = members.reduce((sum, m) => sum + m.inFlight, 0);
      const member = balancer.pick(members, request({ key }))!;
      const cap = Math.ceil(((1 + epsilon) * (total + 1)) / members.length);
      assert.ok(member.inFlight + 1 <= cap, `${member.name}: ${member.inFlight + 1} > ${cap}`);
      if (key === 'hot') hotMembers.add(member.name);
      member.inFlight++;
      running.push(member);
      // Keep about 40 requests in flight: finish a random one.
      if (running.length > 40)
        running.splice(Math.floor(random() * running.length), 1)[0]!.inFlight--;
    }
    // The hot key spilled over to the next members on the ring instead of piling onto one.
    assert.ok(hotMembers.size >= 2, `hot key served by ${[...hotMembers].join(', ')}`);
  });

  test('without bounded load, a hot key piles onto one member', () => {
    const members = fakeMembers(5);
    const balancer = new ConsistentHashBalancer();
    for (let i = 0; i < 100; i++) balancer.pick(members, request({ key: 'hot' }))!.inFlight++;
    assert.equal(Math.max(...members.map((m) => m.inFlight)), 100);
  });

  test('rejects invalid options', () => {
    assert.throws(
      () => createBalancer('consistent-hash', { virtualNodes: 0, boundedLoad: 'high' }),
      (error) =>
        isConfigError(error) &&
        error.issues.map((i) => i.path).join() === 'options.virtualNodes,options.boundedLoad',
    );
    assert.ok(createBalancer('consistent-hash', { virtual_nodes: 40, bounded_load: 0.25 }));
  });
});
