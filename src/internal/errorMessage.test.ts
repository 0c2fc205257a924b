import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asError, errorMessage } from './errorMessage.js';

test('an Error gives its message; anything else thrown gives its string form', () => {
  assert.equal(errorMessage(new TypeError('bad input')), 'bad input');
  assert.equal(errorMessage('plain string'), 'plain string');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});

test('asError keeps an Error as it is and wraps anything else', () => {
  const error = new RangeError('out of range');
  assert.equal(asError(error), error);
  const wrapped = asError({ toString: () => 'an object' });
  assert.ok(wrapped instanceof Error);
  assert.equal(wrapped.message, 'an object');
});
