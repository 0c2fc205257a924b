import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/grpc-js';
import {
  decodeExecuteRequest,
  decodeExecuteResponse,
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  decodeInfoResponse,
  encodeExecuteRequest,
  encodeExecuteResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  encodeInfoResponse,
  ServingStatus,
} from './messages.js';
import {
  ProtobufError,
  ProtobufReader,
  ProtobufWriter,
  utf8Length,
  varintSize,
} from './protobuf.js';

// protobufjs, reading the .proto files that plugin authors get, is the reference encoding.
const protoDir = fileURLToPath(new URL('../../../proto/', import.meta.url));
const definitions = loadSync(['plugin.proto', 'grpc/health/v1/health.proto'], {
  includeDirs: [protoDir],
  keepCase: false,
  longs: String,
  enums: Number,
  defaults: true,
});
type Method = MethodDefinition<Record<string, unknown>, Record<string, unknown>>;
const plugin = definitions['plugwire.v1.Plugin'] as unknown as Record<string, Method>;
const health = definitions['grpc.health.v1.Health'] as unknown as Record<string, Method>;
const reference = {
  execute: plugin.Execute!,
  info: plugin.Info!,
  check: health.Check!,
};

const request = {
  data: Buffer.from('{"amount":42,"note":"café"}'),
  requestId: 'req-1',
  headers: { traceparent: '00-abc-def-01', 'x-empty': '' },
  metadata: { tenant: 'acme', ключ: 'значение' },
  contentType: 'application/json',
};
const response = {
  data: Buffer.from([0, 1, 2, 255]),
  error: 'insufficient funds',
  retryable: true,
  metadata: { reason: 'limit' },
  requestId: 'req-1',
};
const info = {
  name: 'payments',
  version: '1.2.3',
  description: 'moves money',
  capabilities: ['charge', '', 'refund'],
  metadata: { owner: 'team-a' },
};

describe('plugwire.v1 messages match protobufjs reading proto/plugin.proto', () => {
  test('an ExecuteRequest we encode decodes with protobufjs to the same fields', () => {
    const decoded = reference.execute.requestDeserialize(encodeExecuteRequest(request));
    assert.deepEqual({ ...decoded, data: Buffer.from(decoded.data as Buffer) }, request);
  });

  test('an ExecuteRequest protobufjs encodes decodes with ours to the same fields', () => {
    const decoded = decodeExecuteRequest(reference.execute.requestSerialize(request));
    assert.deepEqual({ ...decoded, data: Buffer.from(decoded.data) }, request);
  });

  test('an ExecuteResponse round-trips both ways', () => {
    const theirs = reference.execute.responseDeserialize(encodeExecuteResponse(response));
    assert.deepEqual({ ...theirs, data: Buffer.from(theirs.data as Buffer) }, response);
    const ours = decodeExecuteResponse(reference.execute.responseSerialize(response));
    assert.deepEqual({ ...ours, data: Buffer.from(ours.data) }, response);
  });

  test('an InfoResponse with repeated and empty strings round-trips both ways', () => {
    assert.deepEqual(reference.info.responseDeserialize(encodeInfoResponse(info)), info);
    assert.deepEqual(decodeInfoResponse(reference.info.responseSerialize(info)), info);
  });

  test('health check messages match grpc.health.v1', () => {
    const check = { service: 'payments' };
    assert.deepEqual(reference.check.requestDeserialize(encodeHealthCheckRequest(check)), check);
    assert.deepEqual(decodeHealthCheckRequest(reference.check.requestSerialize(check)), check);
    for (const status of Object.values(ServingStatus)) {
      assert.deepEqual(reference.check.responseDeserialize(encodeHealthCheckResponse({ status })), {
        status,
      });
      assert.deepEqual(decodeHealthCheckResponse(reference.check.responseSerialize({ status })), {
        status,
      });
    }
  });

  test('a message with every field at its default is empty on the wire and decodes to defaults', () => {
    const empty = {
      data: Buffer.alloc(0),
      requestId: '',
      headers: {},
      metadata: {},
      contentType: '',
    };
    assert.equal(encodeExecuteRequest(empty).length, 0);
    const decoded = decodeExecuteRequest(Buffer.alloc(0));
    assert.deepEqual({ ...decoded, data: Buffer.from(decoded.data) }, empty);
  });

  test('a large data field (multi-byte length) round-trips through protobufjs', () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
    const decoded = reference.execute.requestDeserialize(
      encodeExecuteRequest({ ...request, data }),
    );
    assert.ok(data.equals(decoded.data as Buffer));
  });
});

describe('decoding', () => {
  test('fields a newer peer added are skipped, whatever their wire type', () => {
    const extra = Buffer.from([
      ...[0x78, 0xac, 0x02], // field 15, varint 300
      ...[0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8], // field 16, fixed64
      ...[0x8d, 0x01, 1, 2, 3, 4], // field 17, fixed32
      ...[0x92, 0x01, 3, 0x61, 0x62, 0x63], // field 18, length-delimited "abc"
    ]);
    const decoded = decodeExecuteResponse(Buffer.concat([encodeExecuteResponse(response), extra]));
    assert.equal(decoded.error, response.error);
    assert.deepEqual(decoded.metadata, response.metadata);
  });

  test('a truncated message is rejected, not read past its end', () => {
    const bytes = encodeExecuteRequest(request);
    assert.throws(() => decodeExecuteRequest(bytes.subarray(0, bytes.length - 3)), ProtobufError);
  });

  test('a known field with the wrong wire type is rejected', () => {
    // Field 1 (data) sent as a varint.
    assert.throws(() => decodeExecuteRequest(Buffer.from([0x08, 0x01])), /wire type/);
  });

  test('the data field is a view of the received buffer, not a copy', () => {
    const bytes = encodeExecuteRequest(request);
    assert.equal(decodeExecuteRequest(bytes).data.buffer, bytes.buffer);
  });

  test('a map key named __proto__ is an ordinary entry', () => {
    const decoded = decodeExecuteRequest(
      encodeExecuteRequest({ ...request, headers: JSON.parse('{"__proto__":"x","a":"b"}') }),
    );
    assert.equal(Object.getPrototypeOf(decoded.headers), Object.prototype);
    assert.deepEqual(Object.keys(decoded.headers), ['__proto__', 'a']);
    assert.equal(Object.getOwnPropertyDescriptor(decoded.headers, '__proto__')?.value, 'x');
  });
});

test('varints of every length are sized, written and read back exactly', () => {
  const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28];
  values.push(2 ** 35 - 1, 2 ** 35, 2 ** 42, 2 ** 49, Number.MAX_SAFE_INTEGER);
  for (const value of values) {
    const writer = new ProtobufWriter(varintSize(value));
    writer.varint(value);
    assert.equal(new ProtobufReader(writer.finish()).varint(), value, `varint ${value}`);
  }
});

test('strings are written as Node writes UTF-8, surrogate pairs and lone surrogates included', () => {
  const samples = [
    '',
    'ascii',
    'café',
    '€uro',
    '𝄞 clef',
    'lone \ud800 high',
    'lone \udc00 low',
    'end \ud83d',
  ];
  samples.push('é'.repeat(40), '😀'.repeat(40), 'x'.repeat(65));
  for (const sample of samples) {
    assert.equal(utf8Length(sample), Buffer.byteLength(sample), JSON.stringify(sample));
    const decoded = decodeExecuteRequest(
      encodeExecuteRequest({ ...request, requestId: sample, headers: { [sample]: sample } }),
    );
    const expected = Buffer.from(sample).toString('utf8');
    assert.equal(decoded.requestId, expected);
    assert.deepEqual(decoded.headers, sample === '' ? { '': '' } : { [expected]: expected });
  }
});
