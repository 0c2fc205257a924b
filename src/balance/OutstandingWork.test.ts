import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutstandingWork, SLOWNESS_DECAY_MS } from './OutstandingWork.js';
import { FakeMember, ManualClock, fakeMembers } from './testing/fake.js';

function setup(count = 2) {
  const clock = new ManualClock();
  const members = fakeMembers(count, { now: clock.now });
  const work = new OutstandingWork(clock.now);
  work.update(members);
  return { clock, members, work };
}

/** A call of `cost` sent to members[i] and running (in flight). */
function run(work: OutstandingWork, members: FakeMember[], i: number, cost: number): void {
  work.sent(i, cost);
  members[i]!.inFlight++;
}

/** A call on members[i] ends after `latency` (the pipeline first drops it from in-flight). */
function end(
  work: OutstandingWork,
  members: FakeMember[],
  i: number,
  cost: number,
  latency = cost,
) {
  members[i]!.inFlight--;
  work.ended(members[i]!, cost, latency, true);
}

describe('OutstandingWork', () => {
  test('costs a member by the work it runs, not by how many calls it runs', () => {
    const { clock, members, work } = setup();
    run(work, members, 0, 8_000);
    run(work, members, 1, 200);
    run(work, members, 1, 200);
    assert.equal(work.expected(members, 0, 200, clock.time), 8_200);
    assert.equal(work.expected(members, 1, 200, clock.time), 600);
  });

  test('drops tracked calls beyond the in-flight count pro rata (picks that never ran)', () => {
    const { clock, members, work } = setup();
    run(work, members, 0, 1_000);
    work.sent(0, 3_000); // picked, then rate limited: never in flight, never ended
    assert.equal(work.outstanding(members, 0, clock.time, 0), 2_000);
  });

  test('forgets all tracked work once the member has nothing in flight', () => {
    const { clock, members, work } = setup();
    run(work, members, 0, 1_000);
    work.sent(0, 5_000); // never ran
    end(work, members, 0, 1_000);
    assert.equal(work.outstanding(members, 0, clock.time, 0), 0);
    run(work, members, 0, 1_000);
    assert.equal(work.outstanding(members, 0, clock.time, 0), 1_000);
  });

  test('counts untracked calls at the tracked mean, else at the latency estimate', () => {
    const { clock, members, work } = setup();
    run(work, members, 0, 1_000);
    members[0]!.inFlight += 2; // two calls without an operation
    assert.equal(work.outstanding(members, 0, clock.time, 7), 3_000);
    members[1]!.latency.observe(50);
    members[1]!.inFlight = 2;
    assert.equal(work.outstanding(members, 1, clock.time, 7), 100);
    const fresh = new FakeMember('fresh', { now: clock.now }); // no estimate yet: the guess
    fresh.inFlight = 3;
    work.update([fresh]);
    assert.equal(work.outstanding([fresh], 0, clock.time, 7), 21);
  });

  test('learns that a member runs three times slower and expects it to take three times longer', () => {
    const { clock, members, work } = setup();
    for (let k = 0; k < 20; k++) {
      clock.advance(1_000);
      run(work, members, 0, 100);
      run(work, members, 1, 100);
      end(work, members, 0, 100, 100);
      end(work, members, 1, 100, 300);
    }
    const fast = work.expected(members, 0, 100, clock.time);
    const slow = work.expected(members, 1, 100, clock.time);
    assert.ok(Math.abs(slow / fast - 3) < 1e-6, `${slow} / ${fast}`);
  });

  test('counts a failure as slower than the member was, however fast it failed', () => {
    const { clock, members, work } = setup();
    run(work, members, 0, 100);
    end(work, members, 0, 100, 100);
    const before = work.expected(members, 0, 100, clock.time);
    clock.advance(10_000);
    run(work, members, 0, 100);
    members[0]!.inFlight--;
    work.ended(members[0]!, 100, 1, false);
    assert.ok(work.expected(members, 0, 100, clock.time) > before);
  });

  test('lets a slow member look faster while it gets no traffic, so it is tried again', () => {
    const { clock, members, work } = setup();
    run(work, members, 1, 100);
    end(work, members, 1, 100, 1_000); // ten times slower
    for (let t = 0; t < 5 * SLOWNESS_DECAY_MS; t += 1_000) {
      clock.advance(1_000);
      run(work, members, 0, 100);
      end(work, members, 0, 100, 100);
    }
    assert.ok(
      work.expected(members, 1, 100, clock.time) < work.expected(members, 0, 100, clock.time),
    );
  });

  test('keeps the work of members that stay when the membership changes', () => {
    const { clock, members, work } = setup();
    run(work, members, 1, 4_000);
    const joined = new FakeMember('m2', { now: clock.now });
    const next = [joined, members[1]!];
    work.update(next);
    assert.equal(work.outstanding(next, 1, clock.time, 0), 4_000);
    assert.equal(work.outstanding(next, 0, clock.time, 0), 0);
  });
});
