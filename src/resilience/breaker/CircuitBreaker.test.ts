import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY } from '../../config/defaults.js';
import {
  CircuitBreaker,
  PERMIT_CLOSED,
  PERMIT_DENIED,
  PERMIT_PROBE,
  type BreakerSettings,
  type BreakerStateName,
} from './CircuitBreaker.js';

/** A clock the test moves by hand. */
function manualClock() {
  const clock = { t: 1_000, now: () => clock.t };
  return clock;
}

const settings: BreakerSettings = {
  ...DEFAULT_POLICY.circuitBreaker,
  mode: 'consecutive',
  failureThreshold: 3,
  recoveryTimeout: 1_000,
  // A fixed open period, unless a test turns the backoff on (see 'open period backoff').
  recoveryMultiplier: 1,
  successThreshold: 2,
};

function breaker(overrides: Partial<BreakerSettings> = {}) {
  const clock = manualClock();
  const transitions: string[] = [];
  const b = new CircuitBreaker(
    { ...settings, ...overrides },
    { now: clock.now, onTransition: (from, to) => transitions.push(`${from}->${to}`) },
  );
  return { b, clock, transitions };
}

/** Runs one call that fails (or succeeds) right away. */
function fail(b: CircuitBreaker): void {
  const permit = b.tryAcquire();
  assert.notEqual(permit, PERMIT_DENIED);
  b.onFailure(permit);
}
function succeed(b: CircuitBreaker): void {
  const permit = b.tryAcquire();
  assert.notEqual(permit, PERMIT_DENIED);
  b.onSuccess(permit);
}

/** Opens the breaker and moves the clock past the recovery timeout. */
function openAndExpire(b: CircuitBreaker, clock: { t: number }): void {
  for (let i = 0; i < settings.failureThreshold; i++) fail(b);
  assert.equal(b.state, 'open');
  clock.t += settings.recoveryTimeout;
}

describe('CircuitBreaker (consecutive mode)', () => {
  test('admits every call with the closed permit while closed', () => {
    const { b } = breaker();
    assert.equal(b.tryAcquire(), PERMIT_CLOSED);
    assert.equal(b.state, 'closed');
  });

  test('opens after failureThreshold consecutive failures', () => {
    const { b } = breaker();
    fail(b);
    fail(b);
    assert.equal(b.state, 'closed');
    fail(b);
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), PERMIT_DENIED);
  });

  test('counts consecutive failures, not total ones: a success starts the count again', () => {
    const { b } = breaker();
    for (let i = 0; i < 10; i++) {
      fail(b);
      fail(b);
      succeed(b);
    }
    assert.equal(b.state, 'closed');
    assert.equal(b.snapshot().consecutiveFailures, 0);
  });

  test('ignored outcomes (application errors, aborts) neither count as failures nor reset the count', () => {
    const { b } = breaker();
    fail(b);
    fail(b);
    for (let i = 0; i < 5; i++) b.onIgnored(b.tryAcquire());
    assert.equal(b.state, 'closed');
    fail(b);
    assert.equal(b.state, 'open');
  });

  test('denies calls while open and lets a probe through once recoveryTimeout has passed, without timers', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) fail(b);
    clock.t += settings.recoveryTimeout - 1;
    assert.equal(b.tryAcquire(), PERMIT_DENIED);
    clock.t += 1;
    assert.equal(b.tryAcquire(), PERMIT_PROBE);
  });

  test('reads an expired open breaker as half-open', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) fail(b);
    assert.equal(b.state, 'open');
    clock.t += settings.recoveryTimeout;
    assert.equal(b.state, 'half-open');
    assert.equal(b.canAcquire(), true);
    assert.equal(b.tryAcquire(), PERMIT_PROBE);
  });

  test('lets only one probe at a time through in half-open', () => {
    const { b, clock } = breaker();
    openAndExpire(b, clock);
    assert.equal(b.tryAcquire(), PERMIT_PROBE);
    for (let i = 0; i < 100; i++) assert.equal(b.tryAcquire(), PERMIT_DENIED);
    assert.equal(b.canAcquire(), false);
    assert.equal(b.state, 'half-open');
  });

  test('a failed probe reopens the breaker at once with a fresh recoveryTimeout', () => {
    const { b, clock } = breaker();
    openAndExpire(b, clock);
    clock.t += 5_000; // long after the first open
    const probe = b.tryAcquire();
    b.onFailure(probe);
    assert.equal(b.state, 'open');
    assert.equal(b.snapshot().openedAt, clock.t);
    clock.t += settings.recoveryTimeout - 1;
    assert.equal(b.tryAcquire(), PERMIT_DENIED);
    clock.t += 1;
    assert.equal(b.tryAcquire(), PERMIT_PROBE);
  });

  test('open period backoff: each failed probe multiplies the open period, up to maxRecoveryTimeout', () => {
    const { b, clock } = breaker({ recoveryMultiplier: 2, maxRecoveryTimeout: 5_000 });
    openAndExpire(b, clock);
    const periods: number[] = [];
    for (let i = 0; i < 5; i++) {
      b.onFailure(b.tryAcquire());
      assert.equal(b.state, 'open');
      const period = b.snapshot().retryInMs;
      periods.push(period);
      clock.t += period - 1;
      assert.equal(b.tryAcquire(), PERMIT_DENIED, `still open 1 ms before ${period} ms`);
      clock.t += 1;
    }
    assert.deepEqual(periods, [2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  test('by default a failed probe doubles the open period, capped at 5 minutes', () => {
    const clock = manualClock();
    const b = new CircuitBreaker(DEFAULT_POLICY.circuitBreaker, { now: clock.now });
    for (let i = 0; i < DEFAULT_POLICY.circuitBreaker.failureThreshold; i++) fail(b);
    const periods = [b.snapshot().retryInMs];
    for (let i = 0; i < 5; i++) {
      clock.t += periods.at(-1)!;
      b.onFailure(b.tryAcquire());
      periods.push(b.snapshot().retryInMs);
    }
    assert.deepEqual(periods, [30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  });

  test('closing resets the open period to recoveryTimeout', () => {
    const { b, clock } = breaker({ recoveryMultiplier: 2, successThreshold: 1 });
    openAndExpire(b, clock);
    b.onFailure(b.tryAcquire());
    clock.t += 2_000;
    b.onFailure(b.tryAcquire());
    assert.equal(b.snapshot().retryInMs, 4_000);
    clock.t += 4_000;
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'closed');
    for (let i = 0; i < settings.failureThreshold; i++) fail(b);
    assert.equal(b.snapshot().retryInMs, settings.recoveryTimeout);
  });

  test('a maxRecoveryTimeout below recoveryTimeout never shortens the open period', () => {
    const { b, clock } = breaker({ recoveryMultiplier: 2, maxRecoveryTimeout: 10 });
    openAndExpire(b, clock);
    b.onFailure(b.tryAcquire());
    assert.equal(b.snapshot().retryInMs, settings.recoveryTimeout);
  });

  test('an ignored probe does not grow the open period', () => {
    const { b, clock } = breaker({ recoveryMultiplier: 2 });
    openAndExpire(b, clock);
    b.onIgnored(b.tryAcquire());
    b.onFailure(b.tryAcquire());
    assert.equal(b.snapshot().retryInMs, 2_000);
  });

  test('closes only after successThreshold successful probes, taken one at a time', () => {
    const { b, clock } = breaker({ successThreshold: 3 });
    openAndExpire(b, clock);
    const first = b.tryAcquire();
    assert.equal(b.tryAcquire(), PERMIT_DENIED, 'the second probe waits for the first');
    b.onSuccess(first);
    assert.equal(b.state, 'half-open');
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'half-open');
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'closed');
    assert.equal(b.tryAcquire(), PERMIT_CLOSED);
  });

  test('a failure between successful probes reopens and the successes start again', () => {
    const { b, clock } = breaker({ successThreshold: 2 });
    openAndExpire(b, clock);
    b.onSuccess(b.tryAcquire());
    b.onFailure(b.tryAcquire());
    assert.equal(b.state, 'open');
    clock.t += settings.recoveryTimeout;
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'half-open');
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'closed');
  });

  test('an ignored probe frees the probe slot without closing or reopening the breaker', () => {
    const { b, clock, transitions } = breaker();
    openAndExpire(b, clock);
    const probe = b.tryAcquire();
    transitions.length = 0;
    b.onIgnored(probe);
    assert.equal(b.state, 'half-open');
    assert.deepEqual(transitions, []);
    assert.equal(b.tryAcquire(), PERMIT_PROBE, 'the next call takes the slot');
  });

  test('an ignored probe keeps the successes already counted toward closing', () => {
    const { b, clock } = breaker({ successThreshold: 2 });
    openAndExpire(b, clock);
    b.onSuccess(b.tryAcquire());
    b.onIgnored(b.tryAcquire());
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'closed');
  });

  test('a late success from a call admitted while closed does not close an open breaker', () => {
    const { b } = breaker({ successThreshold: 1 });
    const slow = b.tryAcquire();
    assert.equal(slow, PERMIT_CLOSED);
    for (let i = 0; i < 3; i++) fail(b);
    b.onSuccess(slow);
    assert.equal(b.state, 'open');
    assert.equal(b.snapshot().consecutiveFailures, 3);
  });

  test('a late success from a call admitted while closed does not close a half-open breaker', () => {
    const { b, clock } = breaker({ successThreshold: 1 });
    const slow = b.tryAcquire();
    openAndExpire(b, clock);
    const probe = b.tryAcquire();
    b.onSuccess(slow);
    assert.equal(b.state, 'half-open');
    assert.equal(b.tryAcquire(), PERMIT_DENIED, 'the real probe still holds the slot');
    b.onSuccess(probe);
    assert.equal(b.state, 'closed');
  });

  test('a late failure from a call admitted while closed neither reopens half-open nor extends open', () => {
    const { b, clock } = breaker();
    const slowA = b.tryAcquire();
    const slowB = b.tryAcquire();
    for (let i = 0; i < 3; i++) fail(b);
    const openedAt = clock.t;
    clock.t += 500;
    b.onFailure(slowA);
    assert.equal(b.snapshot().openedAt, openedAt);
    clock.t += 500;
    const probe = b.tryAcquire();
    assert.equal(probe, PERMIT_PROBE, 'the open period was not extended');
    b.onFailure(slowB);
    assert.equal(b.state, 'half-open');
  });

  test('a probe result that arrives after reset() is not counted', () => {
    const { b, clock } = breaker();
    openAndExpire(b, clock);
    const probe = b.tryAcquire();
    b.reset();
    b.onFailure(probe);
    assert.equal(b.state, 'closed');
    assert.equal(b.snapshot().consecutiveFailures, 0);
  });

  test('calls onTransition synchronously on each change, in order', () => {
    const { b, clock, transitions } = breaker({ successThreshold: 1 });
    openAndExpire(b, clock);
    b.onFailure(b.tryAcquire());
    clock.t += settings.recoveryTimeout;
    b.onSuccess(b.tryAcquire());
    assert.deepEqual(transitions, [
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
  });

  test('a listener that throws cannot break the breaker', () => {
    const clock = manualClock();
    const seen: BreakerStateName[] = [];
    const b = new CircuitBreaker(settings, {
      now: clock.now,
      onTransition: (_from, to) => {
        seen.push(to);
        throw new Error('listener bug');
      },
    });
    for (let i = 0; i < 3; i++) fail(b);
    assert.equal(b.state, 'open');
    assert.deepEqual(seen, ['open']);
  });

  test('snapshot() reports state, consecutive failures, openedAt, time to the probe and total opens', () => {
    const { b, clock } = breaker();
    assert.deepEqual(b.snapshot(), {
      state: 'closed',
      consecutiveFailures: 0,
      openedAt: undefined,
      retryInMs: 0,
      opens: 0,
    });
    for (let i = 0; i < 3; i++) fail(b);
    const openedAt = clock.t;
    clock.t += 400;
    assert.deepEqual(b.snapshot(), {
      state: 'open',
      consecutiveFailures: 3,
      openedAt,
      retryInMs: 600,
      opens: 1,
    });
    clock.t += 600;
    b.onFailure(b.tryAcquire());
    assert.equal(b.snapshot().opens, 2);
    assert.equal(b.snapshot().consecutiveFailures, 4);
  });

  test('reset() closes the breaker and forgets the failure count but keeps the opens count', () => {
    const { b, transitions } = breaker();
    for (let i = 0; i < 3; i++) fail(b);
    b.reset();
    assert.equal(b.state, 'closed');
    assert.deepEqual(transitions, ['closed->open', 'open->closed']);
    fail(b);
    fail(b);
    assert.equal(b.state, 'closed', 'the count started again');
    assert.equal(b.snapshot().opens, 1);
  });

  test('configure() applies a new failureThreshold in place and keeps the running count', () => {
    const { b } = breaker({ failureThreshold: 5 });
    fail(b);
    fail(b);
    b.configure({ ...settings, failureThreshold: 3 });
    fail(b);
    assert.equal(b.state, 'open');
  });

  test('configure() keeps an open breaker open and applies the new recoveryTimeout to it', () => {
    const { b, clock, transitions } = breaker();
    for (let i = 0; i < 3; i++) fail(b);
    b.configure({ ...settings, recoveryTimeout: 5_000 });
    assert.equal(b.state, 'open');
    clock.t += 4_999;
    assert.equal(b.tryAcquire(), PERMIT_DENIED);
    clock.t += 1;
    assert.equal(b.tryAcquire(), PERMIT_PROBE);
    assert.deepEqual(transitions, ['closed->open', 'open->half-open']);
  });

  test('configure() keeps half-open progress and closes when it already meets a lower successThreshold', () => {
    const { b, clock } = breaker({ successThreshold: 3 });
    openAndExpire(b, clock);
    b.onSuccess(b.tryAcquire());
    b.configure({ ...settings, successThreshold: 2 });
    assert.equal(b.state, 'half-open');
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'closed');
  });

  test('configure() can switch the mode without losing the state', () => {
    const { b } = breaker();
    for (let i = 0; i < 3; i++) fail(b);
    b.configure({ ...settings, mode: 'rate' });
    assert.equal(b.state, 'open');
    assert.equal(b.snapshot().opens, 1);
  });
});

describe('CircuitBreaker (rate mode)', () => {
  const rate: Partial<BreakerSettings> = {
    mode: 'rate',
    errorThresholdPercentage: 50,
    minRequestThreshold: 4,
    windowMs: 1_000,
  };

  test('opens when failures reach errorThresholdPercentage of at least minRequestThreshold calls', () => {
    const { b } = breaker(rate);
    succeed(b);
    succeed(b);
    fail(b);
    assert.equal(b.state, 'closed', '1 of 3: below the threshold and too few calls');
    fail(b);
    assert.equal(b.state, 'open', '2 of 4 = 50%');
  });

  test('does not open below minRequestThreshold calls, even at 100% failures', () => {
    const { b } = breaker(rate);
    fail(b);
    fail(b);
    fail(b);
    assert.equal(b.state, 'closed');
  });

  test('does not count failures that have left the window', () => {
    const { b, clock } = breaker(rate);
    fail(b);
    fail(b);
    fail(b);
    clock.t += 1_000;
    succeed(b);
    succeed(b);
    succeed(b);
    fail(b);
    assert.equal(b.state, 'closed', 'only 1 failure of 4 is in the window');
  });

  test('starts a fresh window after closing from half-open', () => {
    const { b, clock } = breaker({ ...rate, successThreshold: 1 });
    for (let i = 0; i < 4; i++) fail(b);
    assert.equal(b.state, 'open');
    clock.t += settings.recoveryTimeout;
    b.onSuccess(b.tryAcquire());
    assert.equal(b.state, 'closed');
    fail(b);
    assert.equal(b.state, 'closed', 'the failures before the open are forgotten');
  });
});
