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
  const expired: string[] = [];
  const started = performance.now();
  const a = entry('a', 30, expired);
  deadlines.watch(a, 30);
  await sleep(10);
  deadlines.watch(entry('b', 30, expired), 30);
  await sleep(25);
  assert.deepEqual(expired, ['a']);
  assert.ok(performance.now() - started >= 30);
  await sleep(20);
  assert.deepEqual(expired, ['a', 'b']);
  deadlines.dispose();
});

test('a removed entry never expires, wherever it sits in its lane', async () => {
  const deadlines = new Deadlines();
  const expired: string[] = [];
  const entries = ['first', 'middle', 'last'].map((name) => entry(name, 20, expired));
  const lanes = entries.map((e) => deadlines.watch(e, 20));
  lanes[1]!.remove(entries[1]!);
  lanes[0]!.remove(entries[0]!);
  lanes[0]!.remove(entries[0]!); // twice is harmless
  await sleep(40);
  assert.deepEqual(expired, ['last']);
  deadlines.dispose();
});

test('different timeouts have their own lanes', async () => {
  const deadlines = new Deadlines();
  const expired: string[] = [];
  deadlines.watch(entry('slow', 60, expired), 60);
  deadlines.watch(entry('fast', 10, expired), 10);
  await sleep(30);
  assert.deepEqual(expired, ['fast']);
  await sleep(45);
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
