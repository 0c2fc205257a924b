import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Counters, LatencyHistogram } from './stats.js';

const BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

function histogramOf(values: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

/** The exact cumulative counts, for comparison. */
function exact(values: number[], bounds: number[]): number[] {
  return bounds.map((b) => values.filter((v) => v <= b).length);
}

describe('LatencyHistogram.cumulativeCounts', () => {
  test('counts nothing under any bound for an empty histogram', () => {
    assert.deepEqual(
      histogramOf([]).cumulativeCounts(BOUNDS_MS),
      BOUNDS_MS.map(() => 0),
    );
  });

  test('is cumulative: never decreasing, and at most the total count', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 37) % 4_000);
    const counts = histogramOf(values).cumulativeCounts(BOUNDS_MS);
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!);
    assert.ok(counts.at(-1)! <= values.length);
  });

  test('never counts a value under a bound it exceeds', () => {
    // Values just above each bound: the exact count under that bound excludes them.
    const values = BOUNDS_MS.map((b) => b * 1.001);
    const counts = histogramOf(values).cumulativeCounts(BOUNDS_MS);
    assert.deepEqual(counts, exact(values, BOUNDS_MS));
  });

  test('counts values well below a bound under it (more than one sub-bucket below)', () => {
    const values = BOUNDS_MS.map((b) => b * 0.9);
    assert.deepEqual(histogramOf(values).cumulativeCounts(BOUNDS_MS), exact(values, BOUNDS_MS));
  });

  test('may count a value less than one sub-bucket below a bound under the next bound', () => {
    // 0.97 ms shares its log bucket (0.917..1.024 ms) with values above 1 ms: it goes up a bound.
    assert.deepEqual(histogramOf([0.97]).cumulativeCounts([1, 2.5]), [0, 1]);
  });

  test('counts sub-microsecond values under the smallest bound', () => {
    assert.deepEqual(histogramOf([0, 0.0005]).cumulativeCounts([0.001, 1]), [2, 2]);
  });

  test('leaves values beyond the largest bound to +Inf (the count)', () => {
    const h = histogramOf([5, 60_000]);
    assert.deepEqual(h.cumulativeCounts([10, 30_000]), [1, 1]);
    assert.equal(h.count, 2);
  });
});

describe('Counters.snapshot', () => {
  test('leaves the histogram out unless bounds are asked for', () => {
    const counters = new Counters();
    counters.latency.record(3);
    assert.equal(counters.snapshot().histogram, undefined);
    assert.equal('histogram' in counters.snapshot(), false);
  });

  test('reports cumulative counts, count and sum at the bounds asked for', () => {
    const counters = new Counters();
    for (const ms of [0.5, 3, 3, 40]) counters.latency.record(ms);
    assert.deepEqual(counters.snapshot([1, 5, 50]).histogram, {
      boundsMs: [1, 5, 50],
      cumulative: [1, 3, 4],
      count: 4,
      sumMs: 46.5,
    });
  });
});
