import { DEFAULT_POLICY } from '../config/defaults.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { RetryBudget } from '../resilience/RetryBudget.js';
import { GroupRoute, type GroupRequest } from './GroupRoute.js';
import { seededRandom } from './random.js';
import { createBalancer } from './registry.js';
import { FakeMember, ManualClock, fakeMembers, tally } from './testing/fake.js';

function call(tried: FakeMember[] = [], key?: string): GroupRequest {
  return { key, operation: undefined, tried };
}

function group(members: FakeMember[], strategy = 'round-robin', clock?: ManualClock) {
  return new GroupRoute('payments', members, createBalancer(strategy, {}, { now: clock?.now }));
}

describe('GroupRoute', () => {
  test('picks only available members', () => {
    const members = fakeMembers(3);
    members[1]!.blocked = 'circuit-open';
    const route = group(members);
    const counts = tally(Array.from({ length: 10 }, () => route.pick(call())));
    assert.deepEqual(Object.fromEntries(counts), { m0: 5, m2: 5 });
  });

  test('fails over to a member the call has not tried yet', () => {
    for (const strategy of ['round-robin', 'consistent-hash', 'priority', 'p2c', 'adaptive']) {
      const members = fakeMembers(3);
      const route = group(members, strategy);
      const first = route.pick(call([], 'key'))!;
      const second = route.pick(call([first], 'key'))!;
      const third = route.pick(call([first, second], 'key'))!;
      assert.equal(new Set([first, second, third]).size, 3, strategy);
    }
  });

  test('retries a tried member when it is the only available one', () => {
    const members = fakeMembers(2);
    members[1]!.blocked = 'disabled';
    const route = group(members);
    assert.equal(route.pick(call([members[0]!])), members[0]);
    assert.equal(route.panicPicks, 0);
  });

  test('panic mode: still tries when every member is unhealthy', () => {
    const members = fakeMembers(3);
    for (const member of members) member.blocked = 'unhealthy';
    const route = group(members);
    const counts = tally(Array.from({ length: 9 }, () => route.pick(call())));
    assert.deepEqual(Object.fromEntries(counts), { m0: 3, m1: 3, m2: 3 });
    assert.equal(route.panicPicks, 9);
  });

  test('panic mode prefers an untried unhealthy member', () => {
    const members = fakeMembers(2);
    for (const member of members) member.blocked = 'unhealthy';
    const route = group(members, 'priority');
    assert.equal(route.pick(call([members[0]!])), members[1]);
  });

  test('panic mode never picks disabled, draining, closed or breaker-denied members', () => {
    const members = fakeMembers(5);
    const reasons = ['disabled', 'draining', 'closed', 'circuit-open', 'unhealthy'] as const;
    reasons.forEach((reason, i) => (members[i]!.blocked = reason));
    const route = group(members);
    for (let i = 0; i < 5; i++) assert.equal(route.pick(call()), members[4]);
    members[4]!.blocked = 'circuit-open';
    assert.equal(route.pick(call()), undefined);
  });

  test('prefers an available member to panic mode even when it was tried', () => {
    const members = fakeMembers(2);
    members[1]!.blocked = 'unhealthy';
    assert.equal(group(members).pick(call([members[0]!])), members[0]);
  });

  test('brings back a member that failed many times once it is healthy', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    const route = group(members, 'p2c', clock);
    const sick = members[0]!;
    sick.blocked = 'unhealthy';
    for (let i = 0; i < 100; i++) {
      clock.advance(10);
      route.observe(sick, undefined, 5, false);
    }
    for (let i = 0; i < 300; i++) assert.notEqual(route.pick(call()), sick);
    sick.blocked = undefined;
    const healthy = (m: FakeMember) => m.latency.observe(20);
    let picked = 0;
    for (let i = 0; i < 3_000; i++) {
      clock.advance(50);
      const member = route.pick(call())!;
      healthy(member);
      if (member === sick) picked++;
    }
    assert.ok(picked > 300, `picked ${picked} times`);
  });

  test('records a failure as slow, so a member failing fast does not draw traffic', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    const route = group(members, 'least-latency', clock);
    route.observe(members[0]!, undefined, 40, true);
    route.observe(members[1]!, undefined, 40, true);
    route.observe(members[1]!, undefined, 1, false);
    assert.ok(members[1]!.latency.estimate() >= 250);
    assert.equal(route.pick(call()), members[0]);
  });

  test('tells the strategy how attempts ended', () => {
    const members = fakeMembers(2);
    const seen: Array<[string, string | undefined, number, boolean]> = [];
    const route = new GroupRoute('g', members, {
      pick: (candidates) => candidates[0],
      observe: (candidate, operation, latencyMs, ok) =>
        seen.push([candidate.name, operation, latencyMs, ok]),
    });
    route.observe(members[1]!, 'resize', 12, true);
    assert.deepEqual(seen, [['m1', 'resize', 12, true]]);
  });

  test('unavailable(): LOADBALANCER_1701 naming the group and why', () => {
    const members = fakeMembers(3);
    for (const member of members) member.blocked = 'circuit-open';
    const error = group(members).unavailable(2);
    assert.equal(error.code, ErrorCode.NoAvailablePlugins);
    assert.equal(error.plugin, 'payments');
    assert.equal(error.attempts, 2);
    assert.equal(error.retryable, false);
    assert.match(error.message, /group 'payments'.*3 members: all with an open circuit breaker/);
    assert.deepEqual(error.details?.blocked, { 'circuit-open': 3 });
  });

  test('unavailable(): counts mixed reasons, and is retryable while a member is starting', () => {
    const members = fakeMembers(3);
    members[0]!.blocked = 'disabled';
    members[1]!.blocked = 'disabled';
    members[2]!.blocked = 'starting';
    const error = group(members).unavailable(1);
    assert.match(error.message, /2 disabled, 1 still starting/);
    assert.equal(error.retryable, true);
  });

  test('unavailable(): a group without members says so', () => {
    const route = group([]);
    assert.equal(route.pick(call()), undefined);
    const error = route.unavailable(1);
    assert.equal(error.code, ErrorCode.NoAvailablePlugins);
    assert.match(error.message, /Group 'payments' has no plugins/);
  });

  test("has a policy of its own: never the first member's retry, timeout or budget", () => {
    const members = fakeMembers(2);
    members[0]!.requestTimeout = 1_234;
    const plain = group(members);
    assert.equal(plain.requestTimeout, DEFAULT_POLICY.connection.requestTimeout);
    assert.notEqual(plain.budget, members[0]!.budget);
    assert.deepEqual(plain.retry, DEFAULT_POLICY.retry);
    assert.equal(plain.idempotent, false);
    assert.equal(plain.hedging, undefined);

    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1 });
    const retry = { ...members[0]!.retry, maxRetries: 7 };
    const hedging = { delay: 5, maxHedges: 2 };
    const own = new GroupRoute('g', members, createBalancer(), {
      retry,
      requestTimeout: 99,
      budget,
      idempotent: true,
      hedging,
    });
    assert.deepEqual(
      [own.retry, own.requestTimeout, own.budget, own.idempotent, own.hedging],
      [retry, 99, budget, true, hedging],
    );
  });

  test('hasUntried(): only available members neither tried nor running count', () => {
    const members = fakeMembers(3);
    const route = group(members);
    assert.equal(route.hasUntried([members[0]!], members[1]), true);
    assert.equal(route.hasUntried([members[0]!, members[2]!], members[1]), false);
    members[2]!.blocked = 'unhealthy';
    assert.equal(route.hasUntried([members[0]!], members[1]), false);
  });

  test('setMembers(): new members take traffic and the strategy rebuilds', () => {
    const members = fakeMembers(2);
    const route = group(members, 'consistent-hash');
    const joined = [...members, new FakeMember('m2'), new FakeMember('m3')];
    route.setMembers(joined);
    const owners = new Set(
      Array.from({ length: 200 }, (_, i) => route.pick(call([], `k${i}`))!.name),
    );
    assert.deepEqual([...owners].sort(), ['m0', 'm1', 'm2', 'm3']);
    route.setMembers([members[1]!]);
    assert.equal(route.pick(call([], 'k1')), members[1]);
  });

  test('a group of 1,000 that samples still fails over, retries its only member and panics', () => {
    for (const strategy of ['least-connections', 'least-latency', 'adaptive']) {
      const members = fakeMembers(1_000);
      members.forEach((m, i) => (m.inFlight = 1 + (i % 4)));
      const route = new GroupRoute(
        'payments',
        members,
        createBalancer(strategy, {}, { random: seededRandom(9) }),
      );
      const request = (tried: FakeMember[]): GroupRequest => ({
        key: undefined,
        operation: 'export',
        tried,
      });
      for (let i = 0; i < 5; i++) route.observe(members[0]!, 'export', 12_000, true);

      const first = route.pick(request([]))!;
      const second = route.pick(request([first]))!;
      assert.notEqual(second, first, strategy);

      for (const m of members) m.blocked = 'circuit-open';
      members[640]!.blocked = undefined;
      assert.equal(route.pick(request([members[640]!])), members[640], strategy);

      for (const m of members) m.blocked = 'unhealthy';
      assert.ok(route.pick(request([])) !== undefined, strategy);
      assert.equal(route.panicPicks, 1, strategy);
    }
  });
});
