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

test('a reader turns the reply into the value the call resolves with', async () => {
  const calls = new Correlator<string>(aborted);
  const pending = calls.track('a', undefined, { read: (reply: string) => reply.length });
  calls.resolve('a', 'four');
  assert.equal(await pending, 4);
});

test('a reader that throws rejects its call, and only its call', async () => {
  const calls = new Correlator<string>(aborted);
  const refusing = {
    read(reply: string): string {
      if (reply === 'no') throw new Error('refused by the reader');
      return reply;
    },
  };
  const refused = calls.track('a', undefined, refusing);
  const fine = calls.track('b', undefined, refusing);
  assert.equal(calls.resolve('a', 'no'), 'delivered');
  calls.resolve('b', 'yes');
  await assert.rejects(refused, /refused by the reader/);
  assert.equal(await fine, 'yes');
});

test('any Cancellation can abort a call, and its listener is removed once the call settles', async () => {
  const listeners = new Set<() => void>();
  const cancellation = {
    aborted: false,
    reason: undefined as unknown,
    addEventListener: (_type: 'abort', listener: () => void) => void listeners.add(listener),
    removeEventListener: (_type: 'abort', listener: () => void) => void listeners.delete(listener),
  };
  const calls = new Correlator<string>(aborted);
  const answered = calls.track('a', cancellation);
  assert.equal(listeners.size, 1);
  calls.resolve('a', 'A');
  assert.equal(await answered, 'A');
  assert.equal(listeners.size, 0);

  const dropped = calls.track('b', cancellation);
  cancellation.aborted = true;
  for (const listener of [...listeners]) listener();
  await assert.rejects(dropped, /aborted/);
  assert.equal(calls.resolve('b', 'late'), 'late');
});
