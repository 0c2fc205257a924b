import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, PluginError, type FailurePhase } from '../errors.js';
import { decideRetry, verdictFor } from './retryPolicy.js';

const error = (
  phase: FailurePhase,
  extra: { code?: ErrorCode; status?: number; grpcCode?: number; retryable?: boolean } = {},
) =>
  new PluginError(extra.code ?? ErrorCode.PluginConnectionFailed, 'x', {
    phase,
    retryable: extra.retryable ?? true,
    details:
      extra.status !== undefined
        ? { status: extra.status }
        : extra.grpcCode !== undefined
          ? { grpcCode: extra.grpcCode }
          : undefined,
  });

describe('the retry table', () => {
  test('not sent: failover, idempotent or not', () => {
    assert.equal(decideRetry(error('not-sent'), false), 'failover');
    assert.equal(decideRetry(error('not-sent'), true), 'failover');
  });

  test('replied "not processed" (429, 503, UNAVAILABLE, RESOURCE_EXHAUSTED, envelope retryable): retry', () => {
    const http = (status: number) =>
      error('replied', { code: ErrorCode.HTTPTransportError, status });
    const grpc = (grpcCode: number) =>
      error('replied', { code: ErrorCode.GRPCTransportError, grpcCode });
    assert.equal(decideRetry(http(429), false), 'retry');
    assert.equal(decideRetry(http(503), false), 'retry');
    assert.equal(decideRetry(grpc(14), false), 'retry');
    assert.equal(decideRetry(grpc(8), false), 'retry');
    assert.equal(
      decideRetry(error('replied', { code: ErrorCode.PluginExecutionFailed, status: 200 }), false),
      'retry',
    );
  });

  test('other 5xx, sent without reply, timeout: retried only when idempotent', () => {
    const cases = [
      error('replied', { code: ErrorCode.HTTPTransportError, status: 500 }),
      error('replied', { code: ErrorCode.HTTPTransportError, status: 502 }),
      error('replied', { code: ErrorCode.GRPCTransportError, grpcCode: 10 }),
      error('sent'),
      error('timeout', { code: ErrorCode.PluginTimeout }),
    ];
    for (const e of cases) {
      assert.equal(decideRetry(e, false), 'stop');
      assert.equal(decideRetry(e, true), 'retry');
    }
  });

  test('not retryable, aborted, full queue: stop', () => {
    assert.equal(decideRetry(error('replied', { retryable: false }), true), 'stop');
    assert.equal(decideRetry(error('aborted', { code: ErrorCode.CallAborted }), true), 'stop');
    assert.equal(decideRetry(error('not-sent', { code: ErrorCode.PluginQueueFull }), true), 'stop');
  });
});

describe('a custom rule', () => {
  test('undefined keeps the table; a throw stops; failover of a sent request is a counted retry', () => {
    const sent = error('sent');
    assert.equal(
      verdictFor(sent, false, () => undefined, 1, 0, 't'),
      'stop',
    );
    assert.equal(
      verdictFor(
        sent,
        false,
        () => {
          throw new Error('bug');
        },
        1,
        0,
        't',
      ),
      'stop',
    );
    assert.equal(
      verdictFor(sent, false, () => 'failover', 1, 0, 't'),
      'retry',
    );
    assert.equal(
      verdictFor(error('not-sent'), false, () => 'failover', 1, 0, 't'),
      'failover',
    );
  });
});
