import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { ErrorCode } from '../../errors.js';
import { grpcCallError } from './status.js';

const call = { plugin: 'payments', maxResponseBytes: 1024 };
const failure = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${Status[code]}: ${details}`), { code, details });

describe('gRPC statuses become PluginErrors', () => {
  const cases: Array<[string, number, string, string, boolean]> = [
    [
      'a refused connection',
      Status.UNAVAILABLE,
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1',
      ErrorCode.PluginConnectionFailed,
      true,
    ],
    [
      'a dropped connection',
      Status.UNAVAILABLE,
      'Connection dropped',
      ErrorCode.PluginConnectionFailed,
      true,
    ],
    [
      'a TLS handshake failure',
      Status.UNAVAILABLE,
      'No connection established. Last error: self-signed certificate in certificate chain',
      ErrorCode.PluginConnectionFailed,
      false,
    ],
    [
      'UNAVAILABLE sent by the plugin',
      Status.UNAVAILABLE,
      'overloaded',
      ErrorCode.GRPCTransportError,
      true,
    ],
    ['RESOURCE_EXHAUSTED', Status.RESOURCE_EXHAUSTED, 'quota', ErrorCode.GRPCTransportError, true],
    ['ABORTED', Status.ABORTED, 'conflict', ErrorCode.GRPCTransportError, true],
    [
      'DEADLINE_EXCEEDED',
      Status.DEADLINE_EXCEEDED,
      'Deadline exceeded',
      ErrorCode.PluginTimeout,
      true,
    ],
    [
      'a reply over our receive limit',
      Status.RESOURCE_EXHAUSTED,
      'Received message larger than max (2048 vs 1024)',
      ErrorCode.ResponseTooLarge,
      false,
    ],
    [
      'a request over the server limit',
      Status.RESOURCE_EXHAUSTED,
      'Received message larger than max (9999 vs 4194304)',
      ErrorCode.GRPCTransportError,
      false,
    ],
    [
      'a request over a Go server limit',
      Status.RESOURCE_EXHAUSTED,
      'grpc: received message larger than max (5000000 vs. 4194304)',
      ErrorCode.GRPCTransportError,
      false,
    ],
    ['INVALID_ARGUMENT', Status.INVALID_ARGUMENT, 'bad', ErrorCode.GRPCTransportError, false],
    ['UNAUTHENTICATED', Status.UNAUTHENTICATED, 'no key', ErrorCode.GRPCTransportError, false],
    ['PERMISSION_DENIED', Status.PERMISSION_DENIED, 'no', ErrorCode.GRPCTransportError, false],
    ['NOT_FOUND', Status.NOT_FOUND, 'missing', ErrorCode.GRPCTransportError, false],
    ['UNIMPLEMENTED', Status.UNIMPLEMENTED, 'unknown method', ErrorCode.GRPCTransportError, false],
    ['INTERNAL from the plugin', Status.INTERNAL, 'boom', ErrorCode.GRPCTransportError, false],
    ['UNKNOWN from the plugin', Status.UNKNOWN, 'boom', ErrorCode.GRPCTransportError, false],
    [
      'INTERNAL from a reset stream',
      Status.INTERNAL,
      'Received RST_STREAM with code 2 (Internal server error)',
      ErrorCode.GRPCTransportError,
      true,
    ],
    [
      'an undecodable reply',
      Status.INTERNAL,
      'Response message parsing error: truncated varint',
      ErrorCode.InvalidResponse,
      false,
    ],
    [
      'CANCELLED by the server',
      Status.CANCELLED,
      'Call cancelled',
      ErrorCode.GRPCTransportError,
      true,
    ],
  ];
  for (const [what, code, details, expected, retryable] of cases) {
    test(`${what} is ${expected}, ${retryable ? '' : 'not '}retryable`, () => {
      const error = grpcCallError(failure(code, details), call);
      assert.equal(error.code, expected);
      assert.equal(error.retryable, retryable);
      assert.equal(error.plugin, 'payments');
      assert.ok(error.cause);
    });
  }
});

test('an aborted signal explains the failure, whatever status the cancelled call got', () => {
  const controller = new AbortController();
  controller.abort(new Error('caller gave up'));
  const error = grpcCallError(failure(Status.CANCELLED, 'Cancelled on client'), {
    ...call,
    signal: controller.signal,
  });
  assert.equal(error.code, ErrorCode.CallAborted);
  assert.equal(error.retryable, false);
});

test('a thrown value without a gRPC status is a transport error, retryable when transient', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  assert.equal(grpcCallError(reset, call).retryable, true);
  assert.equal(grpcCallError(new Error('odd'), call).code, ErrorCode.GRPCTransportError);
});

describe('the phase of a gRPC failure, and the server pushback', () => {
  const phaseOf = (code: number, details: string) =>
    grpcCallError(failure(code, details), call).phase;

  test('no connection, no resolution, a refused stream: not sent', () => {
    assert.equal(
      phaseOf(Status.UNAVAILABLE, 'No connection established. Last error: x'),
      'not-sent',
    );
    assert.equal(
      phaseOf(Status.UNAVAILABLE, 'Name resolution failed for target dns:x'),
      'not-sent',
    );
    assert.equal(phaseOf(Status.UNAVAILABLE, 'Stream refused by server'), 'not-sent');
  });

  test('a dropped connection or a reset without status: sent', () => {
    assert.equal(phaseOf(Status.UNAVAILABLE, 'Connection dropped'), 'sent');
    assert.equal(
      phaseOf(Status.INTERNAL, 'Received RST_STREAM with code 2 (Call ended without gRPC status)'),
      'sent',
    );
  });

  test('a status the server sent: replied; DEADLINE_EXCEEDED: timeout', () => {
    assert.equal(phaseOf(Status.UNAVAILABLE, 'overloaded'), 'replied');
    assert.equal(phaseOf(Status.INVALID_ARGUMENT, 'bad'), 'replied');
    assert.equal(phaseOf(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'timeout');
  });

  test('grpc-retry-pushback-ms is the retry hint; a negative one means do not retry (A6)', () => {
    const withPushback = (value: string) => {
      const metadata = new Metadata();
      metadata.set('grpc-retry-pushback-ms', value);
      return Object.assign(failure(Status.RESOURCE_EXHAUSTED, 'slow down'), { metadata });
    };
    const wait = grpcCallError(withPushback('250'), call);
    assert.equal(wait.retryable, true);
    assert.equal(wait.retryAfterMs, 250);
    const stop = grpcCallError(withPushback('-1'), call);
    assert.equal(stop.retryable, false);
    assert.equal(stop.retryAfterMs, undefined);
  });
});
