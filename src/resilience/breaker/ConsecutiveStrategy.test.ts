import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsecutiveStrategy } from './ConsecutiveStrategy.js';

test('the consecutive strategy asks to open on the failureThreshold-th failure in a row', () => {
  const s = new ConsecutiveStrategy(3);
  assert.equal(s.failure(), false);
  assert.equal(s.failure(), false);
  assert.equal(s.failure(), true);
});

test('a success or a reset starts the consecutive count again', () => {
  const s = new ConsecutiveStrategy(2);
  s.failure();
  s.success();
  assert.equal(s.failure(), false);
  s.reset();
  assert.equal(s.failure(), false);
  assert.equal(s.failure(), true);
});
