import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../codec.js';
import { ErrorCode } from '../../errors.js';
import { executeResult, findRequestId, healthFromReply, infoFromReply } from './envelope.js';

test('success:false is the plugin own application error, unless it says retryable', () => {
  assert.throws(
    () => executeResult('p', jsonCodec, { request_id: '1', success: false, error: 'no funds' }),
    { code: ErrorCode.ApplicationError, message: 'no funds', retryable: false, plugin: 'p' },
  );
  assert.throws(
    () =>
      executeResult('p', jsonCodec, {
        request_id: '1',
        success: false,
        error: 'busy',
        retryable: true,
      }),
    { code: ErrorCode.PluginExecutionFailed, retryable: true },
  );
});

test('a reply without success but with an error is a failure; without either it is a success', () => {
  assert.throws(() => executeResult('p', jsonCodec, { request_id: '1', error: 'x' }), {
    code: ErrorCode.ApplicationError,
  });
  assert.deepEqual(executeResult('p', jsonCodec, { request_id: '1', data: { a: 1 } }), { a: 1 });
});

test('health replies map to a status, defaulting to healthy', () => {
  const started = Date.now();
  assert.equal(healthFromReply('p', { request_id: 'h', success: true }, started).status, 'healthy');
  const degraded = healthFromReply(
    'p',
    { request_id: 'h', success: true, data: { status: 'degraded', message: 'slow disk' } },
    started,
  );
  assert.equal(degraded.status, 'degraded');
  assert.equal(degraded.message, 'slow disk');
  const failed = healthFromReply(
    'p',
    { request_id: 'h', success: false, error: 'db down' },
    started,
  );
  assert.deepEqual([failed.status, failed.message], ['unhealthy', 'db down']);
});

test('info replies fall back to the configured name', () => {
  assert.deepEqual(
    infoFromReply('cfg', { request_id: 'i', success: true, data: { version: '2' } }),
    {
      name: 'cfg',
      version: '2',
    },
  );
});

test('the request_id of an oversized line is found in its head, else at its tail', () => {
  assert.equal(findRequestId('{"type":"execute","request_id":"a\\"b","data":"zzz', ''), 'a"b');
  assert.equal(findRequestId('{"data":"zzzx', 'zzz","request_id": "tail-id"}'), 'tail-id');
  assert.equal(findRequestId('{"data":"zzzx', 'zzzx"}'), undefined);
});
