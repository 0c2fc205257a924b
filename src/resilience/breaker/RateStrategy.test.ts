import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateStrategy } from './RateStrategy.js';

const options = { errorThresholdPercentage: 50, minRequestThreshold: 4, windowMs: 1_000 };

test('the rate strategy opens at exactly errorThresholdPercentage once minRequestThreshold calls are in', () => {
  const s = new RateStrategy(options);
  s.success(0);
  s.success(0);
  assert.equal(s.failure(0), false, '1 of 3 calls');
  assert.equal(s.failure(0), true, '2 of 4 calls = 50%');
});

test('below minRequestThreshold calls nothing opens', () => {
  const s = new RateStrategy({ ...options, minRequestThreshold: 10 });
  for (let i = 0; i < 9; i++) assert.equal(s.failure(0), false);
  assert.equal(s.failure(0), true);
});

test('calls expire bucket by bucket as the window moves on', () => {
  const s = new RateStrategy(options);
  s.failure(0); // bucket [0, 100)
  s.failure(250); // bucket [200, 300)
  s.success(950);
  assert.deepEqual(s.counts(999), { total: 3, failures: 2 });
  assert.deepEqual(s.counts(1_000), { total: 2, failures: 1 }, 'the bucket at 0 left');
  assert.deepEqual(s.counts(1_250), { total: 1, failures: 0 }, 'the bucket at 200 left');
  assert.deepEqual(s.counts(5_000), { total: 0, failures: 0 });
});

test('failures spread over more than the window never add up to an open', () => {
  const s = new RateStrategy(options);
  for (let t = 0; t < 100_000; t += 400) {
    assert.equal(s.failure(t), false, `at ${t} ms at most 3 calls are in the window`);
  }
});

test('reset() forgets every call', () => {
  const s = new RateStrategy(options);
  for (let i = 0; i < 3; i++) s.failure(0);
  s.reset();
  assert.deepEqual(s.counts(0), { total: 0, failures: 0 });
  assert.equal(s.failure(0), false);
});

test('configure() keeps the counts when the window length is unchanged', () => {
  const s = new RateStrategy(options);
  for (let i = 0; i < 3; i++) s.failure(0);
  s.configure({ ...options, minRequestThreshold: 3, errorThresholdPercentage: 90 });
  assert.deepEqual(s.counts(0), { total: 3, failures: 3 });
  assert.equal(s.failure(0), true);
});

test('configure() with a new window length starts an empty window', () => {
  const s = new RateStrategy(options);
  for (let i = 0; i < 3; i++) s.failure(0);
  s.configure({ ...options, windowMs: 2_000 });
  assert.deepEqual(s.counts(0), { total: 0, failures: 0 });
});
