import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OperationStats } from './operations.js';

describe('OperationStats', () => {
  test('knows no cost for an operation never observed, nor for a call without one', () => {
    const stats = new OperationStats();
    assert.equal(stats.mean('render'), undefined);
    assert.equal(stats.mean(undefined), undefined);
  });

  test('takes the mean of the last window latencies of each operation', () => {
    const stats = new OperationStats(3);
    for (const ms of [1_000, 10, 20, 30]) stats.observe('lookup', ms);
    stats.observe('render', 9_000);
    assert.equal(stats.mean('lookup'), 20);
    assert.equal(stats.mean('render'), 9_000);
  });

  test('remembers at most maxOperations operations, forgetting the oldest', () => {
    const stats = new OperationStats(5, 2);
    stats.observe('a', 1);
    stats.observe('b', 2);
    stats.observe('c', 3);
    assert.equal(stats.mean('a'), undefined);
    assert.equal(stats.mean('b'), 2);
    assert.equal(stats.mean('c'), 3);
  });
});
