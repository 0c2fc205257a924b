import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minBackoffMs } from './backoff.js';
import type { RetryConfig } from '../config/types.js';

const retry: RetryConfig = {
  maxRetries: 10,
  initialInterval: 100,
  maxInterval: 1_000,
  multiplier: 2,
  randomJitter: true,
};

test('the minimum backoff grows by the multiplier from initialInterval', () => {
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => minBackoffMs(retry, i)),
    [100, 200, 400, 800],
  );
});

test('the minimum backoff is capped by maxInterval, even when the exponent overflows', () => {
  assert.equal(minBackoffMs(retry, 4), 1_000);
  assert.equal(minBackoffMs(retry, 5_000), 1_000);
});

test('a multiplier that is not positive is treated as 1, as p-retry does', () => {
  assert.equal(minBackoffMs({ ...retry, multiplier: 0 }, 3), 100);
});

test('the minimum backoff is rounded to whole ms, as p-retry rounds its delay', () => {
  assert.equal(minBackoffMs({ ...retry, initialInterval: 10, multiplier: 1.5 }, 1), 15);
  assert.equal(minBackoffMs({ ...retry, initialInterval: 10, multiplier: 1.55 }, 1), 16);
});
