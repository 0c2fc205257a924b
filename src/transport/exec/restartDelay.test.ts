import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RESTART_POLICY, restartDelay } from './restartDelay.js';

test('restart delays double from 100 ms and stop growing at 10 s', () => {
  const delays = [0, 1, 2, 3, 6, 7, 8, 100].map((n) => restartDelay(n, DEFAULT_RESTART_POLICY));
  assert.deepEqual(delays, [100, 200, 400, 800, 6_400, 10_000, 10_000, 10_000]);
});
