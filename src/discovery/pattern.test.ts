import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, compilePatterns } from './pattern.js';

test('patterns follow Go filepath.Match: *, ?, classes, escapes, whole-name matches', () => {
  const cases: Array<[string, string, boolean]> = [
    ['plugin-*', 'plugin-a', true],
    ['plugin-*', 'my-plugin-a', false],
    ['*.so', 'auth.so', true],
    ['*.so', 'auth.so.1', false],
    ['v?', 'v1', true],
    ['v?', 'v10', false],
    ['[a-c]x', 'bx', true],
    ['[^a-c]x', 'bx', false],
    ['[!a-c]x', 'dx', true],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
  ];
  for (const [pattern, name, expected] of cases) {
    assert.equal(compilePattern(pattern)(name), expected, `${pattern} ~ ${name}`);
  }
});

test('hidden names (..data, swap files) match only a pattern starting with a dot', () => {
  assert.equal(compilePattern('*')('..data'), false);
  assert.equal(compilePattern('*')('.plugin.swp'), false);
  assert.equal(compilePattern('.*')('.hidden'), true);
  assert.equal(compilePatterns(['a*', 'b*'])('bee'), true);
});

test('an unclosed class is a clear error', () => {
  assert.throws(() => compilePattern('plugin-[a'), /"\[" without a closing "\]"/);
});
