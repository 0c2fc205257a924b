import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../random.js';
import {
  FakeMember,
  ManualClock,
  fakeMembers,
  request,
  runSequential,
  share,
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

  test('spreads equal members evenly and never sends the worst of three', () => {
    const clock = new ManualClock();
    const members = fakeMembers(3, { now: clock.now });
    [10, 10, 90].forEach((ms, i) => members[i]!.latency.observe(ms));
    const balancer = new P2CBalancer(seededRandom(3), clock.now);
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
});
