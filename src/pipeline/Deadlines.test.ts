import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Deadlines, type Expiring } from './Deadlines.js';

function entry(name: string, timeoutMs: number, expired: string[]): Expiring {
  return {
    expiresAt: performance.now() + timeoutMs,
    prevDue: undefined,
    nextDue: undefined,
    expire: () => void expired.push(name),
  };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('entries of one timeout expire in order, once, and not before their deadline', async () => {
  const deadlines = new Deadlines();
  const expiries: Array<{ name: string; at: number; due: number }> = [];
  const watched = (name: string): Expiring => {
    const e: Expiring = {
      expiresAt: performance.now() + 30,
      prevDue: undefined,
      nextDue: undefined,
      expire: () => void expiries.push({ name, at: performance.now(), due: e.expiresAt }),
    };
    deadlines.watch(e, 30);
    return e;
  };
  watched('a');
  await sleep(10);
  watched('b');
  const until = performance.now() + 2_000;
  while (expiries.length < 2 && performance.now() < until) await sleep(5);
  await sleep(20); // time for a wrong second expiry to show up
  assert.deepEqual(
    expiries.map((e) => e.name),
    ['a', 'b'],
  );
  for (const e of expiries) assert.ok(e.at >= e.due, `${e.name} expired ${e.due - e.at} ms early`);
  deadlines.dispose();
});

/** Waits (bounded) until `expired` holds `count` names. */
async function expiredCount(expired: string[], count: number): Promise<void> {
  const until = performance.now() + 2_000;
  while (expired.length < count && performance.now() < until) await sleep(5);
  await sleep(20); // time for a wrong extra expiry to show up
}

test('a removed entry never expires, wherever it sits in its lane', async () => {
  const deadlines = new Deadlines();
  const expired: string[] = [];
  const entries = ['first', 'middle', 'last'].map((name) => entry(name, 20, expired));
  const lanes = entries.map((e) => deadlines.watch(e, 20));
  lanes[1]!.remove(entries[1]!);
  lanes[0]!.remove(entries[0]!);
  lanes[0]!.remove(entries[0]!); // twice is harmless
  await expiredCount(expired, 1);
  assert.deepEqual(expired, ['last']);
  deadlines.dispose();
});

test('different timeouts have their own lanes', async () => {
  const deadlines = new Deadlines();
  const expired: string[] = [];
  deadlines.watch(entry('slow', 60, expired), 60);
  deadlines.watch(entry('fast', 10, expired), 10);
  await expiredCount(expired, 2);
  assert.deepEqual(expired, ['fast', 'slow']);
  deadlines.dispose();
});

test('an emptied lane does not keep the process alive, and dispose clears every timer', async () => {
  const before = timers();
  const deadlines = new Deadlines();
  const expired: string[] = [];
  const e = entry('x', 5_000, expired);
  const lane = deadlines.watch(e, 5_000);
  assert.equal(timers(), before + 1, 'a lane with a call keeps a referenced timer');
  lane.remove(e);
  assert.equal(timers(), before, 'the idle lane timer is unreferenced');
  deadlines.watch(entry('y', 5_000, expired), 5_000);
  assert.equal(timers(), before + 1, 'a new call references it again');
  deadlines.dispose();
  assert.equal(timers(), before);
  assert.deepEqual(expired, []);
});
