import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OperationStats } from './operations.js';
import { seededRandom } from './random.js';
import { AdaptiveBalancer } from './strategies/adaptive.js';
import { LeastConnectionsBalancer } from './strategies/least-connections.js';
import { P2CBalancer } from './strategies/p2c.js';
import { ManualClock, fakeMembers, request, tally } from './testing/fake.js';
import { totalInFlight } from './remote.js';

// Cluster mode: the other replicas' load, as the shared view sets it on each member.
describe('the other replicas’ load (Candidate.remote)', () => {
  test('counts in flight from every replica; absent, only local ones', () => {
    const [m] = fakeMembers(1);
    m!.inFlight = 2;
    assert.equal(totalInFlight(m!), 2);
    m!.remote = { inFlight: 3, work: 0, latency: 0 };
    assert.equal(totalInFlight(m!), 5);
  });

  test('least-connections avoids members busy with other replicas’ calls', () => {
    const members = fakeMembers(4);
    members[0]!.remote = { inFlight: 2, work: 0, latency: 0 };
    members[1]!.remote = { inFlight: 1, work: 0, latency: 0 };
    members[2]!.inFlight = 1;
    const balancer = new LeastConnectionsBalancer();
    assert.equal(balancer.pick(members, request())?.name, 'm3');
    members[3]!.inFlight = 1;
    // m1 (1 remote), m2 (1 local), m3 (1 local) tie; m0 (2 remote) is never picked.
    const picked = new Set(
      Array.from({ length: 6 }, () => balancer.pick(members, request())?.name),
    );
    assert.ok(!picked.has('m0'), [...picked].join());
  });

  test('p2c weighs the work other replicas run on a member', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    const balancer = new P2CBalancer(seededRandom(3), clock.now);
    balancer.update(members);
    for (const m of members) balancer.observe(m, 'job', 100, true);
    // m0 runs 1 s of other replicas' work: every pick goes to m1.
    members[0]!.remote = { inFlight: 2, work: 1_000, latency: 100 };
    for (let i = 0; i < 10; i++) {
      const m = balancer.pick(members, request({ operation: 'job' }))!;
      assert.equal(m.name, 'm1');
      balancer.observe(m, 'job', 100, true);
    }
    // Without work figures (a replica using another strategy), calls in flight count at the cost.
    members[0]!.remote = { inFlight: 3, work: 0, latency: 0 };
    const m = balancer.pick(members, request({ operation: 'job' }))!;
    assert.equal(m.name, 'm1');
  });

  test('p2c without an operation: in flight includes others’, and their latency stands in for ours', () => {
    const clock = new ManualClock();
    const members = fakeMembers(2, { now: clock.now });
    const balancer = new P2CBalancer(seededRandom(4), clock.now);
    // Neither measured here; m0 is known elsewhere as slow and busy.
    members[0]!.remote = { inFlight: 4, work: 0, latency: 500 };
    members[1]!.remote = { inFlight: 0, work: 0, latency: 20 };
    const counts = tally(Array.from({ length: 20 }, () => balancer.pick(members, request())));
    assert.deepEqual([...counts], [['m1', 20]]);
  });

  test('adaptive spreads long calls over members the other replicas are not busy with', () => {
    const members = fakeMembers(4);
    const balancer = new AdaptiveBalancer({ threshold: 100 });
    balancer.update(members);
    balancer.observe(members[0]!, 'long', 500, true);
    members[1]!.remote = { inFlight: 1, work: 0, latency: 0 };
    members[2]!.remote = { inFlight: 1, work: 0, latency: 0 };
    assert.equal(balancer.pick(members, request({ operation: 'long' }))?.name, 'm3');
    members[3]!.inFlight = 1;
    // Every other member busy somewhere, the primary idle everywhere: the primary takes it.
    assert.equal(balancer.pick(members, request({ operation: 'long' }))?.name, 'm0');
  });

  test('operation statistics merge this replica’s latencies with the others’ by count', () => {
    const stats = new OperationStats(5);
    assert.equal(stats.mean('op'), undefined);
    stats.shared = new Map([['op', { sum: 900, count: 3 }]]);
    assert.equal(stats.mean('op'), 300); // known from the others alone
    stats.observe('op', 100);
    assert.equal(stats.mean('op'), 250); // (900 + 100) / 4
    assert.deepEqual(stats.entries(10), [['op', 100, 1]]); // only its own are published
    stats.shared = undefined;
    assert.equal(stats.mean('op'), 100);
  });

  test('adaptive classifies an operation it never ran from the others’ statistics', () => {
    const balancer = new AdaptiveBalancer({ threshold: 1_000 });
    assert.equal(balancer.classify('report'), undefined);
    balancer.setSharedOperations(new Map([['report', { sum: 6_000, count: 2 }]]));
    assert.equal(balancer.classify('report'), 'long');
    assert.deepEqual(balancer.localOperations(10), []);
  });
});
