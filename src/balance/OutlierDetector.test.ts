import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_OUTLIER_DETECTION } from '../config/outlier-schema.js';
import type { OutlierDetectionConfig } from '../config/types.js';
import { GroupRoute } from './GroupRoute.js';
import { OutlierDetector, type OutlierEvent } from './OutlierDetector.js';
import { RoundRobinBalancer } from './strategies/round-robin.js';
import { FakeMember, ManualClock, fakeMembers, tally } from './testing/fake.js';
import type { Balancer, Candidate } from './types.js';

const PICK = { key: undefined, operation: undefined, tried: [] };

/** A round-robin group of `count` fake members with outlier detection on a manual clock. */
function group(count: number, config: Partial<OutlierDetectionConfig> = {}) {
  const clock = new ManualClock();
  const members = fakeMembers(count, { now: clock.now });
  const probed: string[] = [];
  const balancer: Balancer = new RoundRobinBalancer();
  balancer.probe = (candidate: Candidate) => probed.push(candidate.name);
  const route = new GroupRoute('g', members, balancer);
  const events: OutlierEvent[] = [];
  const detector = new OutlierDetector(
    { ...DEFAULT_OUTLIER_DETECTION, ...config },
    (event) => {
      events.push(event);
      if (event.kind === 'returned') route.probe(event.member as FakeMember);
    },
    clock.now,
  );
  route.detectOutliers(detector);
  const fail = (member: FakeMember, times = 1) => {
    for (let i = 0; i < times; i++) route.observe(member, undefined, 5, false);
  };
  const picks = (n: number) => tally(Array.from({ length: n }, () => route.pick(PICK)));
  return { clock, members, route, detector, events, probed, fail, picks };
}

describe('outlier ejection', () => {
  test('consecutive failures eject a member: it gets no calls until its ejection ends', () => {
    const { clock, members, events, fail, picks, probed } = group(3, {
      maxEjectionPercent: 34,
    });
    fail(members[1]!, 4);
    assert.equal(events.length, 0, 'four failures in a row are not five');
    fail(members[1]!);
    assert.deepEqual(
      events.map((e) => [e.kind, e.member.name, e.ejections, e.durationMs, e.consecutiveFailures]),
      [['ejected', 'm1', 1, 30_000, 5]],
    );
    assert.equal(picks(30).get('m1'), undefined);
    clock.advance(29_999);
    assert.equal(picks(30).get('m1'), undefined);
    clock.advance(1);
    assert.equal(picks(30).get('m1'), 10, 'back in rotation');
    assert.equal(events.at(-1)?.kind, 'returned');
    assert.deepEqual(probed, ['m1'], 'the strategy was asked to measure it again');
  });

  test('a success starts the count again', () => {
    const { route, members, events, fail } = group(3, { maxEjectionPercent: 34 });
    for (let i = 0; i < 10; i++) {
      fail(members[0]!, 4);
      route.observe(members[0]!, undefined, 5, true);
    }
    assert.equal(events.length, 0);
  });

  test('each ejection lasts base × times ejected, capped at maxEjectionTime', () => {
    const { clock, members, events, fail, detector } = group(2, {
      maxEjectionPercent: 50,
      maxEjectionTime: 100_000,
    });
    const durations: number[] = [];
    for (let round = 0; round < 5; round++) {
      fail(members[0]!, 5);
      const ejected = events.at(-1)!;
      assert.equal(ejected.kind, 'ejected');
      durations.push(ejected.durationMs);
      clock.advance(ejected.durationMs);
      assert.deepEqual(detector.current, [], 'returned once its time is up');
    }
    assert.deepEqual(durations, [30_000, 60_000, 90_000, 100_000, 100_000]);
  });

  test('each interval in service takes one off the multiplier', () => {
    const { clock, members, events, fail, detector } = group(2, { maxEjectionPercent: 50 });
    fail(members[0]!, 5);
    clock.advance(30_000);
    fail(members[0]!, 5);
    clock.advance(60_000);
    assert.equal(detector.snapshot(members[0]!).ejections, 2);
    clock.advance(10_000); // one interval in service
    assert.equal(detector.snapshot(members[0]!).ejections, 1);
    clock.advance(100_000);
    fail(members[0]!, 5);
    assert.equal(events.at(-1)?.durationMs, 30_000, 'back to the base time');
  });

  test('never ejects more than maxEjectionPercent, but always one', () => {
    const { members, events, fail, picks } = group(4); // 10% of 4 is 0: one may still go
    fail(members[0]!, 5);
    fail(members[1]!, 5);
    fail(members[2]!, 5);
    assert.deepEqual(
      events.map((e) => e.member.name),
      ['m0'],
    );
    const counts = picks(39);
    assert.equal(counts.get('m0'), undefined);
    for (const name of ['m1', 'm2', 'm3']) assert.equal(counts.get(name), 13, name);
  });

  test('20% of 10 members: two at once', () => {
    const { members, events, fail } = group(10, { maxEjectionPercent: 20 });
    for (const member of members) fail(member, 5);
    assert.deepEqual(
      events.map((e) => e.member.name),
      ['m0', 'm1'],
    );
  });

  test('below the panic threshold ejected members take calls again', () => {
    const { members, fail, picks } = group(2, { maxEjectionPercent: 50 });
    fail(members[0]!, 5);
    assert.equal(picks(10).get('m0'), undefined, '1 of 2 healthy is not below 50%');
    members[1]!.blocked = 'unhealthy';
    // m1 only unhealthy, m0 ejected: 0 of 2 healthy: panic, both are picked.
    const counts = picks(10);
    assert.equal(counts.get('m0'), 10, 'the available ejected member beats the unhealthy one');
  });

  test('a group of one still serves with its only member ejected (panic)', () => {
    const { members, events, fail, picks } = group(1);
    fail(members[0]!, 5);
    assert.equal(events[0]?.kind, 'ejected');
    assert.equal(picks(3).get('m0'), 3);
  });

  test('when nothing else can serve, an ejected member is picked in the last-resort pass', () => {
    const { members, fail, picks, route } = group(3, {
      maxEjectionPercent: 34,
      panicThreshold: 0,
    });
    fail(members[0]!, 5);
    members[1]!.blocked = 'circuit-open';
    members[2]!.blocked = 'draining';
    assert.equal(picks(3).get('m0'), 3);
    assert.ok(route.panicPicks >= 3);
  });

  test('a member that leaves the group leaves its ejection', () => {
    const { members, route, fail, detector } = group(2, { maxEjectionPercent: 50 });
    fail(members[0]!, 5);
    assert.equal(detector.current.length, 1);
    route.setMembers([members[1]!, new FakeMember('m9')]);
    assert.equal(detector.current.length, 0);
  });

  test('enabled: false counts but never ejects', () => {
    const { members, events, fail } = group(2, { enabled: false, maxEjectionPercent: 50 });
    fail(members[0]!, 50);
    assert.equal(events.length, 0);
  });
});
