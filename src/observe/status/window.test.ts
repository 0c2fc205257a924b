import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counters } from '../stats.js';
import { RollingWindow, WINDOW_BOUNDS_MS, toSample, type CounterSample } from './window.js';

function sampleOf(counters: Counters): Map<string, CounterSample> {
  return new Map([['p', toSample(counters.snapshot(WINDOW_BOUNDS_MS))]]);
}

function record(counters: Counters, values: number[], failed = false): void {
  for (const ms of values) {
    counters.total++;
    if (failed) counters.failure++;
    else counters.success++;
    counters.latency.record(ms);
  }
}

describe('RollingWindow', () => {
  test('percentiles count only the values recorded inside the window', () => {
    const counters = new Counters();
    const window = new RollingWindow(60_000);
    record(counters, Array(1000).fill(5_000)); // before the window: 5 s each
    window.add(0, sampleOf(counters));
    record(
      counters,
      Array.from({ length: 1000 }, (_, i) => (i + 1) / 10),
    ); // 0.1 .. 100 ms
    window.add(10_000, sampleOf(counters));
    const rates = window.rates(['p']);
    assert.equal(rates.callsPerSecond, 100);
    assert.equal(rates.errorRate, 0);
    // Within one step of the bounds (2^(1/4), ~19%).
    assert.ok(Math.abs(rates.p50Ms! - 50) / 50 < 0.19, `p50 ${rates.p50Ms}`);
    assert.ok(Math.abs(rates.p99Ms! - 99) / 99 < 0.19, `p99 ${rates.p99Ms}`);
  });

  test('keeps the newest sample older than the window as baseline and drops the rest', () => {
    const counters = new Counters();
    const window = new RollingWindow(60_000, 1_000);
    for (let t = 0; t <= 120_000; t += 5_000) {
      record(counters, [1], t >= 100_000); // the last 20 s fail
      window.add(t, sampleOf(counters));
    }
    assert.equal(window.seconds, 60);
    const rates = window.rates(['p']);
    assert.equal(rates.callsPerSecond, 12 / 60);
    assert.equal(rates.errorRate, 5 / 12);
  });

  test('samples closer than minGapMs are skipped; one sample gives no rates', () => {
    const counters = new Counters();
    const window = new RollingWindow(60_000, 1_000);
    assert.equal(window.add(0, sampleOf(counters)), true);
    assert.equal(window.add(500, sampleOf(counters)), false);
    assert.equal(window.seconds, 0);
    assert.deepEqual(window.rates(['p']), {
      callsPerSecond: undefined,
      errorRate: undefined,
      p50Ms: undefined,
      p99Ms: undefined,
      errorCodes: {},
    });
  });

  test('a plugin recreated inside the window (counters reset) counts from zero', () => {
    const window = new RollingWindow();
    const old = new Counters();
    record(old, Array(50).fill(1));
    window.add(0, sampleOf(old));
    const fresh = new Counters();
    record(fresh, Array(10).fill(1), true);
    fresh.countCode('PLUGIN_1205');
    window.add(10_000, sampleOf(fresh));
    const rates = window.rates(['p']);
    assert.equal(rates.callsPerSecond, 1);
    assert.equal(rates.errorRate, 1);
    assert.deepEqual(rates.errorCodes, { PLUGIN_1205: 1 });
  });
});
