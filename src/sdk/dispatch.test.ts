import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applicationError } from '../errors.js';
import { runHandler } from './dispatch.js';
import { HandlerCall } from './HandlerCall.js';

const call = (timeoutMs?: number) =>
  new HandlerCall({ requestId: 'r1', headers: {}, metadata: {}, timeoutMs });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a handler that returns a plain value has its outcome at once, not as a promise', () => {
  const outcome = runHandler(
    (request: { n: number }) => ({ double: request.n * 2 }),
    { n: 21 },
    call(),
  );
  assert.deepEqual(outcome, { ok: true, value: { double: 42 } });
});

test('a value with a `then` that is not a function is a plain value', () => {
  const value = { then: 'not a function' };
  assert.deepEqual(
    runHandler(() => value, null, call()),
    { ok: true, value },
  );
});

test('a handler that throws at once has its failure at once: application, transient or other', () => {
  assert.deepEqual(
    runHandler(
      () => {
        throw applicationError('insufficient funds');
      },
      null,
      call(),
    ),
    { ok: false, error: 'insufficient funds', retryable: false, application: true },
  );
  assert.deepEqual(
    runHandler(
      () => {
        throw Object.assign(new Error('overloaded'), { retryable: true });
      },
      null,
      call(),
    ),
    { ok: false, error: 'overloaded', retryable: true, application: false },
  );
  assert.deepEqual(
    runHandler(
      () => {
        throw new Error('');
      },
      null,
      call(),
    ),
    { ok: false, error: 'plugin handler failed', retryable: false, application: false },
  );
});

test('an async handler gives a promise of its outcome that never rejects', async () => {
  const ok = runHandler(async () => 'done', null, call());
  assert.ok(ok instanceof Promise);
  assert.deepEqual(await ok, { ok: true, value: 'done' });
  const failed = runHandler(
    async () => {
      throw applicationError('no');
    },
    null,
    call(),
  );
  assert.ok(failed instanceof Promise);
  assert.deepEqual(await failed, { ok: false, error: 'no', retryable: false, application: true });
});

test('a thenable that is not a native promise is adopted, as `await` would', async () => {
  // A plain JavaScript handler may return any thenable (a library's own promise type).
  const resolving = {
    then: (resolve: (value: string) => void) => resolve('from a thenable'),
  } as unknown as Promise<string>;
  assert.deepEqual(await runHandler(() => resolving, null, call()), {
    ok: true,
    value: 'from a thenable',
  });
  const rejecting = {
    then: (_resolve: unknown, reject: (error: Error) => void) =>
      reject(new Error('thenable failed')),
  } as unknown as Promise<never>;
  assert.deepEqual(await runHandler(() => rejecting, null, call()), {
    ok: false,
    error: 'thenable failed',
    retryable: false,
    application: false,
  });
});

test('once the handler has settled, synchronously or not, its deadline no longer aborts it', async () => {
  const syncCall = call(15);
  runHandler(() => 'quick', null, syncCall);
  const asyncCall = call(15);
  await runHandler(async () => 'quick too', null, asyncCall);
  await sleep(40);
  assert.equal(syncCall.aborted, false);
  assert.equal(asyncCall.aborted, false);
  // A handler still running when the deadline passes is aborted.
  const slowCall = call(15);
  const slow = runHandler(() => sleep(40).then(() => 'late'), null, slowCall);
  await sleep(30);
  assert.equal(slowCall.aborted, true);
  assert.deepEqual(await slow, { ok: true, value: 'late' });
});
