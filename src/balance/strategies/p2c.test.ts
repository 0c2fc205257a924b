import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isConfigError } from '../../errors.js';
import { GroupRoute } from '../GroupRoute.js';
import { seededRandom } from '../random.js';
import { createBalancer } from '../registry.js';
import {
  FakeMember,
  ManualClock,
  fakeMembers,
  request,
  runSequential,
  share,
  slowFirstMember,
  tally,
} from '../testing/fake.js';
import { P2CBalancer } from './p2c.js';

describe('p2c', () => {
  test('takes the better of the two members drawn', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    members[0]!.latency.observe(50);
    members[1]!.latency.observe(20);
    const balancer = new P2CBalancer(seededRandom(1), clock.now);
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(members, request())?.name, 'm1');
  });

  test('compares latency × (in flight + 1)', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    members[0]!.latency.observe(50);
    members[1]!.latency.observe(20);
    members[1]!.inFlight = 4; // 100 > 50
    assert.equal(new P2CBalancer(seededRandom(2), clock.now).pick(members, request())?.name, 'm0');
  });

  test('spreads equal members evenly and, without probes, never sends the worst of three', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    [10, 10, 90].forEach((ms, i) => members[i]!.latency.observe(ms));
    const balancer = new P2CBalancer(seededRandom(3), clock.now, { probeFactor: 0 });
    const counts = tally(Array.from({ length: 3_000 }, () => balancer.pick(members, request())));
    assert.equal(counts.get('m2'), undefined);
    assert.ok(counts.get('m0')! > 1_300 && counts.get('m1')! > 1_300, String([...counts]));
  });

  test('finds the one accepted member among many unavailable ones', () => {
    const members = fakeMembers(100);
    members.forEach((m, i) => (m.blocked = i === 42 ? undefined : 'unhealthy'));
    const balancer = new P2CBalancer(seededRandom(4));
    for (let i = 0; i < 50; i++) assert.equal(balancer.pick(members, request())?.name, 'm42');
    members[42]!.blocked = 'draining';
    assert.equal(balancer.pick(members, request()), undefined);
  });

  test('recovers a once-slow member after it becomes fast (no permanent exclusion)', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    const balancer = new P2CBalancer(seededRandom(5), clock.now);
    const pick = (list: FakeMember[]) => balancer.pick(list, request());
    let slow = true;
    const latencyOf = (m: FakeMember) => (m.name === 'm0' && slow ? 1_000 : 10);

    const before = runSequential(pick, members, clock, latencyOf, 2_000);
    assert.ok(share(before, 'm0') < 0.02, `slow member share ${share(before, 'm0')}`);

    slow = false;
    const after = runSequential(pick, members, clock, latencyOf, 4_000);
    const recovered = share(after.slice(-1_000), 'm0');
    assert.ok(recovered > 0.2, `recovered share ${recovered}`);
  });

  test('probes the worst member once per probeFactor × members picks, and no more', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    [10, 10, 90].forEach((ms, i) => members[i]!.latency.observe(ms));
    const balancer = new P2CBalancer(seededRandom(3), clock.now);
    const picks = Array.from({ length: 3_000 }, () => balancer.pick(members, request()));
    const worst = picks.flatMap((m, i) => (m?.name === 'm2' ? [i] : []));
    // A window of 32 × 3 = 96 picks: due after 96, then taken when it is next drawn (2 in 3).
    assert.ok(worst.length >= 25 && worst.length <= 32, `${worst.length} probes`);
    for (let k = 1; k < worst.length; k++) assert.ok(worst[k]! - worst[k - 1]! > 96);
  });

  test('a probe that finds a slow member fast gives it its share back at once, without waiting for the decay', () => {
    // Calls 1 ms apart: in 2 000 of them the 10 s decay moves nothing.
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    const balancer = new P2CBalancer(seededRandom(7), clock.now);
    const route = new GroupRoute('g', members, balancer);
    const calls = slowFirstMember(route, clock);
    calls.run(100);
    calls.slow = false;
    const after = calls.run(800);
    const firstBack = after.indexOf('m0');
    assert.ok(firstBack >= 0 && firstBack <= 64, `m0 probed again at pick ${firstBack}`);
    assert.ok(share(after, 'm0') >= 0.4, `m0 got ${share(after, 'm0')} of 800`);
  });

  test('probe(member) makes the strategy try that member at its next draw', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    members[0]!.latency.observe(500);
    members[1]!.latency.observe(5);
    const balancer = new P2CBalancer(seededRandom(8), clock.now);
    balancer.update(members);
    assert.equal(balancer.pick(members, request())?.name, 'm1');
    balancer.probe(members[0]!);
    assert.equal(balancer.pick(members, request())?.name, 'm0');
    assert.equal(balancer.pick(members, request())?.name, 'm1', 'one probe, then rated again');
  });

  describe('with operations', () => {
    /** Teaches `balancer` what `operation` costs, without touching any member's estimates. */
    function teach(balancer: P2CBalancer, operation: string, latencyMs: number) {
      balancer.observe(new FakeMember('teacher'), operation, latencyMs, true);
    }

    /** Picks for `operation` and puts the call in flight on the member picked. */
    function send(balancer: P2CBalancer, members: FakeMember[], operation: string): string {
      const member = balancer.pick(members, request({ operation }))!;
      member.inFlight++;
      return member.name;
    }

    test('sends a call to the member with less work, not to the one with fewer calls', () => {
      const clock = new ManualClock();
      const members = fakeMembers(2, { now: clock.now });
      const balancer = new P2CBalancer(seededRandom(6), clock.now);
      teach(balancer, 'render', 8_000);
      teach(balancer, 'lookup', 200);
      const busy = send(balancer, members, 'render');
      const lookups = Array.from({ length: 5 }, () => send(balancer, members, 'lookup'));
      assert.ok(
        lookups.every((name) => name !== busy),
        `lookups went to ${lookups}, render to ${busy}`,
      );
    });

    test('does not shun a member because its last call was long', () => {
      const clock = new ManualClock();
      const members = fakeMembers(2, { now: clock.now });
      const balancer = new P2CBalancer(seededRandom(7), clock.now);
      teach(balancer, 'lookup', 200);
      members[0]!.latency.observe(8_000); // m0 just finished a long call: idle now
      members[1]!.latency.observe(200);
      const notM0 = request({ operation: 'lookup', accepts: (c) => c !== members[0] });
      balancer.pick(members, notM0)!.inFlight++; // m1 runs a lookup
      assert.equal(send(balancer, members, 'lookup'), 'm0');
      // Peak-EWMA × (in flight + 1), used for calls without an operation, still says m1.
      members[0]!.inFlight = 0;
      assert.equal(balancer.pick(members, request())?.name, 'm1');
    });

    test('weighs outstanding work by how slowly each member runs', () => {
      const clock = new ManualClock();
      const members = fakeMembers(2, { now: clock.now });
      const route = new GroupRoute('g', members, new P2CBalancer(seededRandom(8), clock.now));
      // Sequential calls, in turn: m1 runs the same operation three times slower.
      for (let i = 0; i < 40; i++) {
        clock.advance(1_000);
        const member = route.pick({ key: undefined, operation: 'op', tried: [members[i % 2]!] })!;
        route.observe(member, 'op', member.name === 'm1' ? 300 : 100, true);
      }
      const balancer = route.balancer as P2CBalancer;
      const picks = Array.from({ length: 8 }, () => {
        const member = balancer.pick(members, request({ operation: 'op' }))!;
        member.inFlight++;
        return member;
      });
      const counts = tally(picks);
      assert.ok(counts.get('m0')! >= 5 && counts.get('m1')! >= 1, String([...counts]));
    });

    test('recovers a once-slow member after it becomes fast (no permanent exclusion)', () => {
      const clock = new ManualClock();
      const members = fakeMembers(3, { now: clock.now });
      const route = new GroupRoute('g', members, new P2CBalancer(seededRandom(9), clock.now));
      let slow = true;
      const names: string[] = [];
      // Slowness is averaged over about a minute: sequential calls bring m0 back within minutes.
      for (let i = 0; i < 16_000; i++) {
        if (i === 2_000) slow = false;
        clock.advance(50);
        const member = route.pick({ key: undefined, operation: 'op', tried: [] })!;
        route.observe(member, 'op', member.name === 'm0' && slow ? 1_000 : 10, true);
        names.push(member.name);
      }
      assert.ok(share(names.slice(0, 2_000), 'm0') < 0.02, 'the slow member was avoided');
      const recovered = share(names.slice(-1_000), 'm0');
      assert.ok(recovered > 0.25, `recovered share ${recovered}`);
    });

    test('finds the one accepted member among many unavailable ones', () => {
      const members = fakeMembers(100);
      members.forEach((m, i) => (m.blocked = i === 42 ? undefined : 'unhealthy'));
      const balancer = new P2CBalancer(seededRandom(10));
      teach(balancer, 'op', 100);
      for (let i = 0; i < 50; i++) {
        assert.equal(balancer.pick(members, request({ operation: 'op' }))?.name, 'm42');
      }
      members[42]!.blocked = 'draining';
      assert.equal(balancer.pick(members, request({ operation: 'op' })), undefined);
    });
  });

  test('reads maxOperations from options and rejects unknown ones', () => {
    assert.ok(createBalancer('p2c', { max_operations: 10 }) instanceof P2CBalancer);
    assert.throws(
      () => createBalancer('p2c', { maxOperations: 0, window: 3 }),
      (error) =>
        isConfigError(error) &&
        error.issues
          .map((i) => i.path)
          .sort()
          .join() === 'options.maxOperations,options.window',
    );
  });
});
