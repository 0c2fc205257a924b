import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interpolate } from './env.js';

describe('interpolate', () => {
  test('replaces ${NAME} with the variable and reports the value as from the environment', () => {
    assert.deepEqual(interpolate('Bearer ${TOKEN}', { TOKEN: 'abc' }), {
      ok: true,
      value: 'Bearer abc',
      fromEnv: ['abc'],
    });
  });

  test('uses the fallback of ${NAME:-fallback} when the variable is unset or empty', () => {
    assert.deepEqual(interpolate('${A:-x}/${B:-y}', { B: '' }), {
      ok: true,
      value: 'x/y',
      fromEnv: [],
    });
  });

  test('prefers a set variable over the fallback', () => {
    assert.deepEqual(interpolate('${A:-x}', { A: 'set' }), {
      ok: true,
      value: 'set',
      fromEnv: ['set'],
    });
  });

  test('allows an empty fallback', () => {
    assert.deepEqual(interpolate('a${A:-}b', {}), { ok: true, value: 'ab', fromEnv: [] });
  });

  test('treats an empty variable without fallback as set', () => {
    assert.deepEqual(interpolate('a${A}b', { A: '' }), { ok: true, value: 'ab', fromEnv: [''] });
  });

  test('names every missing variable, once', () => {
    const result = interpolate('${A}${B}${A}', {});
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.problem : '', /environment variables A, B are not set/);
  });

  test('reads $${ as a literal ${ and leaves other $ alone', () => {
    assert.deepEqual(interpolate('$${HOME} costs $5 $HOME', { HOME: '/root' }), {
      ok: true,
      value: '${HOME} costs $5 $HOME',
      fromEnv: [],
    });
  });

  test('rejects an unterminated reference', () => {
    assert.match(JSON.stringify(interpolate('x ${A', { A: '1' })), /unterminated/);
  });

  test('rejects a reference that is not a variable name', () => {
    assert.match(JSON.stringify(interpolate('${1A}', {})), /malformed/);
    assert.match(JSON.stringify(interpolate('${}', {})), /malformed/);
  });

  test('never quotes a value in a problem', () => {
    const result = interpolate('${SECRET}${MISSING}', { SECRET: 'hunter2' });
    assert.doesNotMatch(JSON.stringify(result), /hunter2/);
  });
});
