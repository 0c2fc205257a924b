import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, isPluginError } from '../../errors.js';
import { raceAbort, requestFailure } from './failure.js';

test('connection errors are PLUGIN_1205, retryable only when transient', () => {
  const signal = new AbortController().signal;
  const reset = requestFailure(
    'p',
    Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    signal,
  );
  assert.equal(reset.code, ErrorCode.PluginConnectionFailed);
  assert.equal(reset.retryable, true);
  const tls = requestFailure(
    'p',
    Object.assign(new Error('bad cert'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    signal,
  );
  assert.equal(tls.code, ErrorCode.PluginConnectionFailed);
  assert.equal(tls.retryable, false);
  const invalid = requestFailure(
    'p',
    Object.assign(new Error('bad header'), { code: 'UND_ERR_INVALID_ARG' }),
    signal,
  );
  assert.equal(invalid.code, ErrorCode.PluginExecutionFailed);
});

test('raceAbort rejects at once when the signal is already aborted', async () => {
  const controller = new AbortController();
  controller.abort(new Error('before'));
  const never = new Promise<never>(() => {});
  await assert.rejects(raceAbort(never, controller.signal, 'p'), (error: unknown) => {
    return isPluginError(error) && error.code === ErrorCode.CallAborted;
  });
});

test('raceAbort rejects when the signal aborts while the work is pending', async () => {
  const controller = new AbortController();
  const raced = raceAbort(new Promise<never>(() => {}), controller.signal, 'p');
  controller.abort(new DOMException('late', 'TimeoutError'));
  await assert.rejects(
    raced,
    (error: unknown) => isPluginError(error) && error.code === ErrorCode.PluginTimeout,
  );
});
