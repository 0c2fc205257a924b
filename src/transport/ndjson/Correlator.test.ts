import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Correlator } from './Correlator.js';

const aborted = (): Error => new Error('aborted');

test('a reply settles the call with the same id, exactly once', async () => {
  const calls = new Correlator<string>(aborted);
  const a = calls.track('a', undefined);
  const b = calls.track('b', undefined);
  assert.equal(calls.resolve('b', 'B'), 'delivered');
  assert.equal(calls.resolve('a', 'A'), 'delivered');
  assert.equal(calls.resolve('a', 'again'), 'unknown');
  assert.deepEqual(await Promise.all([a, b]), ['A', 'B']);
  assert.equal(calls.size, 0);
});

test('an aborted call rejects at once and its late reply is recognised as late', async () => {
  const calls = new Correlator<string>(aborted);
  const controller = new AbortController();
  const pending = calls.track('x', controller.signal);
  controller.abort();
  await assert.rejects(pending, /aborted/);
  assert.equal(calls.size, 0);
  assert.equal(calls.resolve('x', 'late'), 'late');
  assert.equal(calls.resolve('never-sent', 'y'), 'unknown');
});

test('a call whose signal is already aborted rejects without being tracked', async () => {
  const calls = new Correlator<string>(aborted);
  await assert.rejects(calls.track('x', AbortSignal.abort()), /aborted/);
  assert.equal(calls.size, 0);
});

test('rejectAll fails every waiting call', async () => {
  const calls = new Correlator<string>(aborted);
  const all = [calls.track('1', undefined), calls.track('2', new AbortController().signal)];
  assert.equal(calls.rejectAll(new Error('gone')), 2);
  for (const call of all) await assert.rejects(call, /gone/);
  assert.equal(calls.size, 0);
});

test('tracking an id already in flight is refused', async () => {
  const calls = new Correlator<string>(aborted);
  const first = calls.track('dup', undefined);
  assert.throws(() => calls.track('dup', undefined), /already in flight/);
  calls.resolve('dup', 'one');
  assert.equal(await first, 'one');
});
