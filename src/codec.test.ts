import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromEnvelopeData, jsonCodec, toEnvelopeData } from './codec.js';
import type { Codec } from './types.js';

test('the JSON codec round-trips a value through bytes', () => {
  const value = { a: 1, b: ['x', null], c: 'é' };
  assert.deepEqual(jsonCodec.decode(jsonCodec.encode(value)), value);
});

test('JSON envelopes embed the value itself, other codecs travel as base64', () => {
  assert.deepEqual(toEnvelopeData(jsonCodec, { a: 1 }), { a: 1 });
  const upper: Codec = {
    name: 'upper',
    contentType: 'text/plain',
    encode: (v) => Buffer.from(String(v).toUpperCase()),
    decode: (b) => Buffer.from(b).toString('utf8'),
  };
  const wire = toEnvelopeData(upper, 'abc');
  assert.equal(wire, Buffer.from('ABC').toString('base64'));
  assert.equal(fromEnvelopeData(upper, wire), 'ABC');
  assert.throws(() => fromEnvelopeData(upper, 42), /expected base64/);
});
