import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FakeMember,
  ManualClock,
  fakeMembers,
  request,
  runSequential,
  share,
} from '../testing/fake.js';
import { LeastLatencyBalancer } from './least-latency.js';

describe('least-latency', () => {
  test('prefers the member with the lowest latency estimate', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    [40, 10, 25].forEach((ms, i) => members[i]!.latency.observe(ms));
    const balancer = new LeastLatencyBalancer(clock.now);
    for (let i = 0; i < 3; i++) assert.equal(balancer.pick(members, request())?.name, 'm1');
  });

  test('weighs requests in flight: an idle slower member beats a busy fast one', () => {
    const clock = new ManualClock();
    const [fast, slow] = [
      new FakeMember('fast', { now: clock.now }),
      new FakeMember('slow', { now: clock.now }),
    ];
    fast.latency.observe(10);
    slow.latency.observe(25);
    fast.inFlight = 3; // expected 10 × 4 = 40 > 25
    assert.equal(new LeastLatencyBalancer(clock.now).pick([fast, slow], request()), slow);
  });

  test('tries an idle member with no measurement first', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    members[0]!.latency.observe(5);
    members[1]!.latency.observe(5);
    assert.equal(new LeastLatencyBalancer(clock.now).pick(members, request())?.name, 'm2');
  });

  test('does not flood a new member with requests before its first reply', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    members[0]!.latency.observe(500);
    members[1]!.inFlight = 1; // new, busy, unmeasured
    assert.equal(new LeastLatencyBalancer(clock.now).pick(members, request())?.name, 'm0');
  });

  test('recovers a once-slow member after it becomes fast (no permanent exclusion)', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    const balancer = new LeastLatencyBalancer(clock.now);
    const pick = (list: FakeMember[]) => balancer.pick(list, request());
    let slow = true;
    const latencyOf = (m: FakeMember) => (m.name === 'm0' && slow ? 1_000 : 10);

    const before = runSequential(pick, members, clock, latencyOf, 2_000);
    assert.ok(share(before, 'm0') < 0.02, `slow member share ${share(before, 'm0')}`);

    slow = false;
    const after = runSequential(pick, members, clock, latencyOf, 4_000);
    const recovered = share(after.slice(-1_000), 'm0');
    assert.ok(recovered > 0.3, `recovered share ${recovered}`);
  });

  test('ignores members that are not accepted', () => {
    const members = fakeMembers(2);
    members[1]!.blocked = 'circuit-open';
    members[0]!.inFlight = 9;
    assert.equal(new LeastLatencyBalancer().pick(members, request())?.name, 'm0');
  });
});
