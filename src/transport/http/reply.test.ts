import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../codec.js';
import { ErrorCode, isPluginError } from '../../errors.js';
import type { Codec } from '../../types.js';
import { decodeReply, parseRetryAfter } from './reply.js';

const decode = (status: number, body: string, codec: Codec = jsonCodec): unknown =>
  decodeReply('p', status, Buffer.from(body), 'application/json', 'id-1', codec);

function codeOf(fn: () => unknown): { code: string; retryable: boolean } {
  try {
    fn();
  } catch (error) {
    assert.ok(isPluginError(error));
    return { code: error.code, retryable: error.retryable };
  }
  assert.fail('expected a throw');
}

test('a 2xx envelope with empty error yields its data', () => {
  assert.deepEqual(decode(200, '{"data":{"a":1},"error":"","request_id":"id-1"}'), { a: 1 });
  assert.equal(decode(204 + 0, '{"data":null}'), undefined);
});

test('a JSON value that is not an object is an invalid response', () => {
  assert.deepEqual(
    codeOf(() => decode(200, '[1,2]')),
    {
      code: ErrorCode.InvalidResponse,
      retryable: false,
    },
  );
  assert.equal(codeOf(() => decode(200, 'null')).code, ErrorCode.InvalidResponse);
});

test('an error given as an object is still an application error, with its message', () => {
  try {
    decode(200, '{"error":{"message":"quota exceeded"}}');
    assert.fail('expected a throw');
  } catch (error) {
    assert.ok(isPluginError(error));
    assert.equal(error.code, ErrorCode.ApplicationError);
    assert.match(error.message, /quota exceeded/);
    assert.equal(error.plugin, 'p');
  }
});

test('a 5xx body may veto the retry, a 4xx body cannot ask for one', () => {
  assert.equal(codeOf(() => decode(500, '{"error":"bug","retryable":false}')).retryable, false);
  assert.equal(codeOf(() => decode(400, '{"error":"bad","retryable":true}')).retryable, false);
  assert.equal(codeOf(() => decode(502, '{"error":"upstream"}')).retryable, true);
});

test('a non-2xx reply without a body is a transport failure by its status', () => {
  assert.deepEqual(
    codeOf(() => decode(503, '')),
    {
      code: ErrorCode.HTTPTransportError,
      retryable: true,
    },
  );
  assert.deepEqual(
    codeOf(() => decode(302, '')),
    {
      code: ErrorCode.HTTPTransportError,
      retryable: false,
    },
  );
});

test('data a non-JSON codec cannot decode is an invalid response', () => {
  const b64: Codec = {
    name: 'bytes',
    contentType: 'application/octet-stream',
    encode: (v) => Buffer.from(String(v)),
    decode: (b) => Buffer.from(b).toString('utf8'),
  };
  assert.equal(decode(200, `{"data":"${Buffer.from('hi').toString('base64')}"}`, b64), 'hi');
  assert.equal(codeOf(() => decode(200, '{"data":42}', b64)).code, ErrorCode.InvalidResponse);
});

const nestedError = (depth: number) => `{"error":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

test('a 6,000-level error body is a typed failure by its status, never a stack overflow', () => {
  assert.deepEqual(
    codeOf(() => decode(500, nestedError(6_000))),
    {
      code: ErrorCode.HTTPTransportError,
      retryable: true,
    },
  );
  assert.deepEqual(
    codeOf(() => decode(400, nestedError(6_000))),
    {
      code: ErrorCode.HTTPTransportError,
      retryable: false,
    },
  );
  // A 2xx body that deep cannot be read at all: an invalid response.
  assert.equal(codeOf(() => decode(200, nestedError(6_000))).code, ErrorCode.InvalidResponse);
});

test('an error object within the depth limit is the plugin\'s "no", previewed in bounded size', () => {
  try {
    decode(200, nestedError(400));
    assert.fail('expected a throw');
  } catch (error) {
    assert.ok(isPluginError(error));
    assert.equal(error.code, ErrorCode.ApplicationError);
    assert.ok(error.message.length < 300, `${error.message.length} chars`);
  }
  const huge = JSON.stringify({ error: 'e'.repeat(1_000_000) });
  try {
    decode(502, huge);
    assert.fail('expected a throw');
  } catch (error) {
    assert.ok(isPluginError(error));
    assert.equal(error.code, ErrorCode.HTTPTransportError);
    assert.ok(error.message.length < 9_000, `${error.message.length} chars`);
  }
});

test('a foreign request_id of any shape is refused without serialising it whole', () => {
  const body = `{"request_id":${'['.repeat(500)}${']'.repeat(500)},"data":1}`;
  assert.equal(codeOf(() => decode(200, body)).code, ErrorCode.InvalidResponse);
});

test('Retry-After reads as delay-seconds or an HTTP date; unreadable or past dates are ignored', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('1', now), 1_000);
  assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now), 2_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
});

test('a 503 with Retry-After is a replied failure carrying the hint', () => {
  try {
    decodeReply('p', 503, Buffer.alloc(0), undefined, 'id', jsonCodec, '2');
    assert.fail('no error');
  } catch (error) {
    assert.ok(isPluginError(error));
    assert.equal(error.phase, 'replied');
    assert.equal(error.retryAfterMs, 2_000);
    assert.equal(error.retryable, true);
  }
});
