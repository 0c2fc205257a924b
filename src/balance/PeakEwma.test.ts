import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PeakEwma } from './PeakEwma.js';
import { expectedLatency } from './score.js';
import { FakeMember, ManualClock } from './testing/fake.js';

describe('PeakEwma', () => {
  test('is 0 before any observation', () => {
    assert.equal(new PeakEwma().estimate(), 0);
  });

  test('restart() forgets the history: the estimate is the one sample, then blends as before', () => {
    const clock = new ManualClock();
    const ewma = new PeakEwma({ now: clock.now, decayMs: 1_000 });
    ewma.observe(100);
    ewma.restart(4);
    assert.equal(ewma.estimate(), 4);
    ewma.observe(50);
    assert.equal(ewma.estimate(), 50, 'a later peak still replaces it');
  });

  test('takes a sample above the estimate at once (peak)', () => {
    const clock = new ManualClock();
    const ewma = new PeakEwma({ now: clock.now });
    ewma.observe(10);
    clock.advance(1);
    ewma.observe(500);
    assert.equal(ewma.estimate(), 500);
  });

  test('comes down toward lower samples by the time elapsed, not by their number', () => {
    const clock = new ManualClock();
    const ewma = new PeakEwma({ now: clock.now, decayMs: 1_000 });
    ewma.observe(100);
    for (let i = 0; i < 50; i++) ewma.observe(10); // no time passed: a burst moves it little
    assert.ok(ewma.estimate() > 99, String(ewma.estimate()));
    for (let i = 0; i < 50; i++) {
      clock.advance(100);
      ewma.observe(10);
    }
    assert.ok(Math.abs(ewma.estimate() - 10) < 0.1, String(ewma.estimate()));
  });

  test('decays toward 0 without observations, to 1/e after decayMs', () => {
    const clock = new ManualClock();
    const ewma = new PeakEwma({ now: clock.now, decayMs: 2_000 });
    ewma.observe(300);
    clock.advance(2_000);
    assert.ok(Math.abs(ewma.estimate() - 300 / Math.E) < 1e-9);
    clock.advance(60_000);
    assert.ok(ewma.estimate() < 1e-3);
  });

  test('without peaks, takes the first sample as is', () => {
    const clock = new ManualClock();
    const ewma = new PeakEwma({ now: clock.now, peak: false });
    clock.advance(5);
    ewma.observe(300);
    assert.equal(ewma.estimate(), 300);
  });

  test('without peaks, blends a sample above the estimate by time like any other', () => {
    const clock = new ManualClock();
    const ewma = new PeakEwma({ now: clock.now, decayMs: 1_000, peak: false });
    ewma.observe(10);
    clock.advance(100);
    ewma.observe(400); // weight 1 − e^−0.1 ≈ 0.095
    const expected = 10 * Math.exp(-0.1) + 400 * (1 - Math.exp(-0.1));
    assert.ok(Math.abs(ewma.estimate() - expected) < 1e-9, String(ewma.estimate()));
  });
});

describe('expectedLatency', () => {
  test('multiplies the estimate by in-flight + 1', () => {
    const clock = new ManualClock();
    const member = new FakeMember('a', { now: clock.now });
    member.latency.observe(20);
    member.inFlight = 2;
    assert.equal(expectedLatency(member), 60);
  });

  test('ranks an unmeasured busy member behind any measured one', () => {
    const clock = new ManualClock();
    const slow = new FakeMember('slow', { now: clock.now });
    slow.latency.observe(30_000);
    slow.inFlight = 100;
    const fresh = new FakeMember('fresh', { now: clock.now });
    fresh.inFlight = 1;
    assert.ok(expectedLatency(fresh) > expectedLatency(slow));
    fresh.inFlight = 0;
    assert.equal(expectedLatency(fresh), 0);
  });
});
