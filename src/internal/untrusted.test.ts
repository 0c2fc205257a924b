import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerSecret } from '../errors.js';
import { JsonTooDeepError, MAX_JSON_DEPTH, parseJson, preview } from './untrusted.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

test('parseJson accepts nesting up to MAX_JSON_DEPTH and refuses one level more', () => {
  assert.ok(Array.isArray(parseJson(nested(MAX_JSON_DEPTH))));
  assert.throws(() => parseJson(nested(MAX_JSON_DEPTH + 1)), JsonTooDeepError);
  assert.throws(() => parseJson(nested(100_000)), SyntaxError);
});

test('brackets inside strings (escaped quotes too) do not count as depth', () => {
  const text = JSON.stringify({ s: `\\"${'['.repeat(5_000)}` });
  assert.deepEqual(parseJson(text), { s: `\\"${'['.repeat(5_000)}` });
});

test('preview never throws and stays bounded, whatever the value', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const getter = Object.defineProperty({}, 'x', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  for (const value of [deep, cycle, getter, 10n, Symbol('s'), 'x'.repeat(1e6), [1, [2, [3]]]]) {
    const text = preview(value);
    assert.equal(typeof text, 'string');
    assert.ok(text.length <= 230, `${text.length} chars`);
  }
  assert.equal(preview({ a: [1, 'b'] }), '{"a":[1,"b"]}');
});

test('preview redacts before cutting, so a secret cut by the limit is still removed', () => {
  registerSecret('Preview-S3cret-Value');
  const text = preview(`${'x'.repeat(190)}Preview-S3cret-Value and more`, 200);
  assert.doesNotMatch(text, /Preview-S3c/);
  assert.doesNotMatch(preview({ token: 'Bearer abcdefghijk' }), /abcdefghijk/);
});
