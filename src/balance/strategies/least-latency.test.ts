import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FakeMember,
  ManualClock,
  fakeMembers,
  request,
  runSequential,
  share,
  slowFirstMember,
} from '../testing/fake.js';
import { LeastLatencyBalancer } from './least-latency.js';
import { isConfigError } from '../../errors.js';
import { seededRandom } from '../random.js';
import { createBalancer } from '../registry.js';
import { GroupRoute } from '../GroupRoute.js';

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

  test('probes a member rated poorly once per probe window, and gives it its share back when it is fast', () => {
    // Calls 1 ms apart: the 10 s decay alone would keep m0 out for tens of seconds.
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    const route = new GroupRoute('g', members, new LeastLatencyBalancer(clock.now));
    const calls = slowFirstMember(route, clock);
    const during = calls.run(640);
    // Slow: one probe per window of 64 picks, and nothing more.
    const probes = during.filter((n) => n === 'm0').length;
    assert.ok(probes >= 9 && probes <= 11, `${probes} probes of the slow member`);
    calls.slow = false;
    const after = calls.run(800);
    const firstBack = after.indexOf('m0');
    assert.ok(firstBack >= 0 && firstBack <= 64, `m0 tried again at pick ${firstBack}`);
    assert.ok(share(after, 'm0') >= 0.4, `m0 got ${share(after, 'm0')} of 800`);
  });

  test('probeFactor 0 turns probing off', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    members[0]!.latency.observe(50);
    members[1]!.latency.observe(1);
    const balancer = createBalancer('least-latency', { probeFactor: 0 }, { now: clock.now });
    for (let i = 0; i < 1_000; i++) assert.equal(balancer.pick(members, request())?.name, 'm1');
  });

  test('ignores members that are not accepted', () => {
    const members = fakeMembers(2);
    members[1]!.blocked = 'circuit-open';
    members[0]!.inFlight = 9;
    assert.equal(new LeastLatencyBalancer().pick(members, request())?.name, 'm0');
  });

  test('in a group of 1,000 strongly prefers fast members', () => {
    const clock = new ManualClock();
    const members = fakeMembers(1_000, { now: clock.now });
    // A fifth answer in 10 ms, the rest in 100–1,000 ms; all run one call.
    members.forEach((m, i) => {
      m.latency.observe(i % 5 === 0 ? 10 : 100 * (1 + (i % 10)));
      m.inFlight = 1;
    });
    const balancer = new LeastLatencyBalancer(clock.now, {}, seededRandom(1));
    const picks = Array.from({ length: 5_000 }, () => balancer.pick(members, request())!);
    // The best of 8 draws is fast with probability 1 − 0.8⁸ = 83%.
    const fast = picks.filter((m) => m.latency.estimate() === 10).length / picks.length;
    assert.ok(fast > 0.78, `fast share ${fast}`);
    // Slower than 300 ms only when none of the 8 draws is 300 ms or faster: 0.6⁸ = 1.7%.
    const slow = picks.filter((m) => m.latency.estimate() > 300).length / picks.length;
    assert.ok(slow < 0.03, `share slower than 300 ms ${slow}`);
    assert.ok(new Set(picks).size > 150, 'herded onto a few fast members');
  });

  test('in a group of 1,000 finds the only accepted member', () => {
    const clock = new ManualClock();
    const members = fakeMembers(1_000, { now: clock.now });
    for (const m of members) {
      m.latency.observe(20);
      m.blocked = 'unhealthy';
    }
    members[3]!.blocked = undefined;
    members[3]!.latency.observe(900);
    const balancer = new LeastLatencyBalancer(clock.now, {}, seededRandom(2));
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(members, request()), members[3]);
  });

  test('rejects a choices option that is not a whole number from 2 to 64', () => {
    assert.doesNotThrow(() => createBalancer('least-latency', { choices: 2 }));
    for (const choices of [0, 100, 7.5, 'many']) {
      assert.throws(
        () => createBalancer('least-latency', { choices }),
        (error) => isConfigError(error) && error.issues[0]?.path === 'options.choices',
        String(choices),
      );
    }
  });
});
