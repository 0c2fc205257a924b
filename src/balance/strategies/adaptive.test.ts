import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isConfigError } from '../../errors.js';
import { seededRandom } from '../random.js';
import { createBalancer } from '../registry.js';
import { FakeMember, fakeMembers, request, tally } from '../testing/fake.js';
import { AdaptiveBalancer } from './adaptive.js';

function teach(balancer: AdaptiveBalancer, operation: string, latencyMs: number, times = 5) {
  const anyone = new FakeMember('x');
  for (let i = 0; i < times; i++) balancer.observe(anyone, operation, latencyMs, true);
}

describe('adaptive', () => {
  test('classifies an operation by the mean of its recent latencies', () => {
    const balancer = new AdaptiveBalancer();
    assert.equal(balancer.classify('report'), undefined);
    teach(balancer, 'report', 6_000);
    assert.equal(balancer.classify('report'), 'long');
    teach(balancer, 'report', 100, 2); // mean of 6000 ×3, 100 ×2 = 3640
    assert.equal(balancer.classify('report'), 'short');
    teach(balancer, 'lookup', 40);
    assert.equal(balancer.classify('lookup'), 'short');
  });

  test('forgets samples older than the window', () => {
    const balancer = new AdaptiveBalancer({ window: 3 });
    teach(balancer, 'op', 50, 10);
    teach(balancer, 'op', 9_000, 3);
    assert.equal(balancer.classify('op'), 'long');
  });

  test('does not learn from failures', () => {
    const balancer = new AdaptiveBalancer();
    balancer.observe(new FakeMember('x'), 'op', 30_000, false);
    assert.equal(balancer.classify('op'), undefined);
  });

  test('goes round robin when it cannot classify the call', () => {
    const members = fakeMembers(3);
    const balancer = new AdaptiveBalancer();
    const unknown = Array.from({ length: 6 }, () =>
      balancer.pick(members, request({ operation: 'new' })),
    );
    assert.deepEqual(
      unknown.map((m) => m?.name),
      ['m0', 'm1', 'm2', 'm0', 'm1', 'm2'],
    );
    const none = tally(Array.from({ length: 6 }, () => balancer.pick(members, request())));
    assert.deepEqual([...none.values()], [2, 2, 2]);
  });

  test('keeps short operations on the primary: highest priority, then first', () => {
    const members = [
      new FakeMember('a'),
      new FakeMember('b', { priority: 5 }),
      new FakeMember('c'),
    ];
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'lookup', 20);
    members[1]!.inFlight = 1; // busy, but not by `spill` (2) more than the others
    for (let i = 0; i < 10; i++) {
      assert.equal(balancer.pick(members, request({ operation: 'lookup' }))?.name, 'b');
    }
  });

  test('moves a short operation off the primary when it has spill more in flight', () => {
    const members = fakeMembers(3);
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'lookup', 20);
    [4, 3, 2].forEach((n, i) => (members[i]!.inFlight = n));
    assert.equal(balancer.pick(members, request({ operation: 'lookup' }))?.name, 'm2');
    const strict = new AdaptiveBalancer({ spill: 1_000 });
    teach(strict, 'lookup', 20);
    assert.equal(strict.pick(members, request({ operation: 'lookup' }))?.name, 'm0');
  });

  test('spreads long operations over the other members, least busy first', () => {
    const members = fakeMembers(4);
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'export', 12_000);
    members[0]!.inFlight = 5; // the primary is busy with short calls
    const picked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const member = balancer.pick(members, request({ operation: 'export' }))!;
      member.inFlight++;
      picked.push(member.name);
    }
    assert.ok(!picked.includes('m0'), `primary took a long call: ${picked}`);
    assert.deepEqual(
      members.slice(1).map((m) => m.inFlight),
      [2, 2, 2],
    );
  });

  test('sends a long operation to the idle primary when every other member is busy', () => {
    const members = fakeMembers(2);
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'export', 12_000);
    assert.equal(balancer.pick(members, request({ operation: 'export' }))?.name, 'm1');
    members[1]!.inFlight = 1;
    assert.equal(balancer.pick(members, request({ operation: 'export' }))?.name, 'm0');
  });

  test('keeps long operations off a busy primary: all busy means the least busy other', () => {
    const members = fakeMembers(3);
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'export', 12_000);
    [1, 4, 2].forEach((n, i) => (members[i]!.inFlight = n));
    assert.equal(balancer.pick(members, request({ operation: 'export' }))?.name, 'm2');
  });

  test('sends a long operation to the primary when the others have spill more in flight', () => {
    const members = fakeMembers(3);
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'export', 12_000);
    [1, 3, 4].forEach((n, i) => (members[i]!.inFlight = n));
    assert.equal(balancer.pick(members, request({ operation: 'export' }))?.name, 'm0');
  });

  test('fails over: the next member in order becomes the primary', () => {
    const members = fakeMembers(3);
    const balancer = new AdaptiveBalancer();
    teach(balancer, 'lookup', 20);
    members[0]!.blocked = 'circuit-open';
    assert.equal(balancer.pick(members, request({ operation: 'lookup' }))?.name, 'm1');
    const tried = members[1]!;
    const untried = request({ operation: 'lookup', accepts: (c) => c.available && c !== tried });
    assert.equal(balancer.pick(members, untried)?.name, 'm2');
  });

  test('remembers at most maxOperations operations, forgetting the oldest', () => {
    const balancer = new AdaptiveBalancer({ maxOperations: 2 });
    teach(balancer, 'a', 10, 1);
    teach(balancer, 'b', 10, 1);
    teach(balancer, 'c', 10, 1);
    assert.equal(balancer.classify('a'), undefined);
    assert.equal(balancer.classify('c'), 'short');
  });

  test('reads window and threshold from options, the threshold as a duration', () => {
    const balancer = createBalancer('adaptive', { window: 2, threshold: '2s' }) as AdaptiveBalancer;
    teach(balancer, 'op', 2_500, 2);
    assert.equal(balancer.classify('op'), 'long');
    assert.throws(
      () => createBalancer('adaptive', { window: 0, threshold: 'soon', windw: 3 }),
      (error) =>
        isConfigError(error) &&
        error.issues
          .map((i) => i.path)
          .sort()
          .join() === 'options.threshold,options.window,options.windw',
    );
  });

  test('in a group of 1,000 sends long operations to lightly loaded other members', () => {
    const members = fakeMembers(1_000);
    members.forEach((m, i) => (m.inFlight = 1 + (i % 10)));
    members[0]!.inFlight = 9; // the primary: no other has 2 (spill) more
    const balancer = new AdaptiveBalancer({}, seededRandom(1));
    teach(balancer, 'export', 12_000);
    const picks = Array.from({ length: 5_000 }, () =>
      balancer.pick(members, request({ operation: 'export' }))!,
    );
    assert.ok(!picks.includes(members[0]!), 'the primary took a long call');
    // The least busy of 8 draws has 1 in flight with probability 1 − 0.9⁸ = 57%.
    const least = picks.filter((m) => m.inFlight === 1).length / picks.length;
    assert.ok(least > 0.5, `share of the least busy ${least}`);
    assert.ok(picks.filter((m) => m.inFlight > 5).length / picks.length < 0.01);
  });

  test('in a group of 1,000 finds the only accepted member besides the primary', () => {
    const members = fakeMembers(1_000);
    for (const m of members) m.blocked = 'disabled';
    members[0]!.blocked = undefined;
    members[0]!.inFlight = 5;
    members[999]!.blocked = undefined;
    members[999]!.inFlight = 3;
    const balancer = new AdaptiveBalancer({}, seededRandom(2));
    teach(balancer, 'export', 12_000);
    for (let i = 0; i < 20; i++) {
      assert.equal(balancer.pick(members, request({ operation: 'export' })), members[999]);
    }
  });
});
