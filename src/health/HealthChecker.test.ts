import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HealthCheckConfig } from '../config/types.js';
import type { HealthState, HealthStatus } from '../types.js';
import {
  HealthChecker,
  SETUP_RETRY_INITIAL_MS,
  failureState,
  healthTarget,
  type HealthTarget,
  type HealthTimers,
} from './HealthChecker.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Timers the test moves by hand: nothing waits for real time. */
function fakeTimers(random: () => number = () => 0.5) {
  let now = 1_700_000_000_000;
  let seq = 0;
  const pending = new Map<number, { at: number; ms: number; fn: () => void }>();
  const timers: HealthTimers = {
    setTimeout(fn, ms) {
      pending.set(++seq, { at: now + ms, ms, fn });
      return seq;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    now: () => now,
    random,
  };
  return {
    timers,
    pending,
    get now() {
      return now;
    },
    /** The delays of the timers now pending, in ms. */
    delays: () => [...pending.values()].map((t) => t.ms),
    /** Moves the clock by `ms`, firing due timers in order and letting promises settle. */
    async advance(ms: number): Promise<void> {
      const end = now + ms;
      for (;;) {
        await flush();
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of pending) if (!next || entry[1].at < next[1].at) next = entry;
        if (next === undefined || next[1].at > end) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
      await flush();
    },
  };
}

type Step = HealthState | Error | 'hang' | 'throw' | { answer: unknown };

/** A target that plays `steps` in order (the last one repeats) and records each call. */
function scripted(...steps: Step[]) {
  const signals: AbortSignal[] = [];
  let release: ((status: HealthStatus) => void) | undefined;
  const target: HealthTarget & { signals: AbortSignal[]; release(s: HealthState): void } = {
    name: 'p',
    signals,
    release: (status) => release?.({ status, lastCheck: 0, responseTimeMs: 0 }),
    check(signal) {
      const step = steps.length > 1 ? steps.shift()! : steps[0]!;
      if (step === 'throw') throw new Error('transport not built: token=abc123');
      signals.push(signal);
      if (step === 'hang') return new Promise((resolve) => (release = resolve));
      if (step instanceof Error) return Promise.reject(step);
      if (typeof step === 'object') return Promise.resolve(step.answer as HealthStatus);
      return Promise.resolve({
        status: step,
        message: `said ${step}`,
        lastCheck: 0,
        responseTimeMs: 0,
      });
    },
  };
  return target;
}

const config: HealthCheckConfig = { enabled: true, interval: 1_000, timeout: 100, failureLimit: 3 };

function setup(steps: Step[], overrides: Partial<HealthCheckConfig> = {}, random?: () => number) {
  const clock = fakeTimers(random);
  const target = scripted(...steps);
  const changes: string[] = [];
  const checker = new HealthChecker(
    target,
    { ...config, ...overrides },
    {
      timers: clock.timers,
      onChange: (status, previous) => changes.push(`${previous.status}->${status.status}`),
    },
  );
  return { clock, target, checker, changes };
}

describe('HealthChecker: one check', () => {
  test('a passing check reports healthy, with when it finished and how long it took', async () => {
    const { clock, checker, target } = setup(['hang']);
    const run = checker.checkNow();
    await clock.advance(30);
    target.release('healthy');
    const status = await run;
    assert.equal(status.status, 'healthy');
    assert.equal(status.lastCheck, clock.now);
    assert.equal(status.responseTimeMs, 30);
    assert.equal(checker.status, status);
  });

  test('a plugin that answers degraded is degraded, with its own message', async () => {
    const { checker } = setup(['degraded']);
    const status = await checker.checkNow();
    assert.equal(status.status, 'degraded');
    assert.equal(status.message, 'said degraded');
    assert.equal(checker.consecutiveFailures, 0);
  });

  test('a check that overruns its timeout fails with message "timeout" and its signal is aborted', async () => {
    const { clock, checker, target } = setup(['hang']);
    const run = checker.checkNow();
    await clock.advance(100);
    const status = await run;
    assert.equal(status.status, 'unhealthy');
    assert.equal(status.message, 'timeout');
    assert.equal(checker.lastError, 'timeout');
    assert.equal(target.signals[0]!.aborted, true);
    assert.equal((target.signals[0]!.reason as { code?: string }).code, 'HEALTH_1602');
  });

  test('a check that rejects fails with the error message, secrets redacted', async () => {
    const { checker } = setup([new Error('connect refused, token=s3cr3t-value')]);
    const status = await checker.checkNow();
    assert.equal(status.status, 'unhealthy');
    assert.match(status.message!, /connect refused/);
    assert.doesNotMatch(status.message!, /s3cr3t-value/);
  });

  test('an answer that is not a health status is a failure', async () => {
    const { checker } = setup([{ answer: { ok: true } }]);
    const status = await checker.checkNow();
    assert.equal(status.status, 'unhealthy');
    assert.equal(status.message, 'invalid health answer');
  });

  test('checkNow while a check runs joins it instead of starting another', async () => {
    const { checker, target } = setup(['hang']);
    const first = checker.checkNow();
    const second = checker.checkNow();
    assert.equal(first, second);
    target.release('healthy');
    await first;
    assert.equal(target.signals.length, 1);
  });
});

describe('HealthChecker: state rules', () => {
  test('consecutive failures go healthy → degraded → unhealthy → offline at failureLimit', async () => {
    const { checker, changes } = setup(['healthy', new Error('down')]);
    await checker.checkNow();
    for (let i = 0; i < 4; i++) await checker.checkNow();
    assert.deepEqual(changes, [
      'unknown->healthy',
      'healthy->degraded',
      'degraded->unhealthy',
      'unhealthy->offline',
    ]);
    assert.equal(checker.consecutiveFailures, 4);
    assert.equal(checker.status.status, 'offline');
  });

  test('a plugin whose first check fails is unhealthy, never degraded', async () => {
    const { checker } = setup([new Error('down')]);
    assert.equal((await checker.checkNow()).status, 'unhealthy');
  });

  test('one success brings an offline plugin back and starts the failure count again', async () => {
    const { checker, changes } = setup([new Error('a'), new Error('b'), new Error('c'), 'healthy']);
    for (let i = 0; i < 3; i++) await checker.checkNow();
    assert.equal(checker.status.status, 'offline');
    await checker.checkNow();
    assert.equal(checker.status.status, 'healthy');
    assert.equal(checker.consecutiveFailures, 0);
    assert.equal(checker.lastError, undefined);
    assert.deepEqual(changes.slice(-1), ['offline->healthy']);
  });

  test('a plugin that says offline is offline at once; one that says unhealthy is unhealthy', async () => {
    const offline = setup(['healthy', 'offline']);
    await offline.checker.checkNow();
    assert.equal((await offline.checker.checkNow()).status, 'offline');
    const unhealthy = setup(['healthy', 'unhealthy']);
    await unhealthy.checker.checkNow();
    const status = await unhealthy.checker.checkNow();
    assert.equal(status.status, 'unhealthy');
    assert.equal(status.message, 'said unhealthy');
  });

  test('failureLimit 1 takes a plugin offline on its first failure', () => {
    assert.equal(failureState(1, 1, 'healthy'), 'offline');
    assert.equal(failureState(1, 2, 'healthy'), 'degraded');
    assert.equal(failureState(1, 2, 'unknown'), 'unhealthy');
    assert.equal(failureState(2, 5, 'degraded'), 'unhealthy');
  });
});

describe('HealthChecker: scheduling', () => {
  test('start() checks at once, then every interval', async () => {
    const { clock, checker, target } = setup(['healthy']);
    checker.start();
    await clock.advance(0);
    assert.equal(target.signals.length, 1);
    assert.deepEqual(clock.delays(), [1_000]);
    await clock.advance(1_000);
    assert.equal(target.signals.length, 2);
    await clock.advance(3_000);
    assert.equal(target.signals.length, 5);
    checker.stop();
  });

  test('the interval is jittered within ±10%', async () => {
    for (const [random, expected] of [
      [0, 900],
      [0.5, 1_000],
      [0.999_999, 1_100],
    ] as const) {
      const { clock, checker } = setup(['healthy'], {}, () => random);
      checker.start();
      await clock.advance(0);
      assert.deepEqual(clock.delays(), [expected], `random ${random}`);
      checker.stop();
    }
  });

  test('the next check is scheduled only when the previous one ends: checks never overlap', async () => {
    const { clock, checker, target } = setup(['healthy', 'hang', 'healthy'], { timeout: 10_000 });
    checker.start();
    await clock.advance(1_000); // second check starts and hangs
    assert.equal(target.signals.length, 2);
    assert.equal(clock.pending.size, 1); // only its timeout timer
    await clock.advance(5_000);
    assert.equal(target.signals.length, 2);
    target.release('healthy');
    await clock.advance(0);
    assert.deepEqual(clock.delays(), [1_000]);
    checker.stop();
  });

  test('a target that throws synchronously shows unhealthy with its error and is retried with backoff up to the interval', async () => {
    const { clock, checker, target } = setup(
      ['throw', 'throw', 'throw', 'throw', 'throw', 'healthy'],
      {
        interval: 5_000,
      },
    );
    checker.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await clock.advance(delays.at(-1) ?? 0);
      assert.equal(checker.status.status, 'unhealthy');
      assert.match(checker.status.message!, /could not run: transport not built/);
      assert.doesNotMatch(checker.status.message!, /abc123/);
      delays.push(...clock.delays());
    }
    assert.deepEqual(delays, [
      SETUP_RETRY_INITIAL_MS,
      SETUP_RETRY_INITIAL_MS * 2,
      SETUP_RETRY_INITIAL_MS * 4,
      SETUP_RETRY_INITIAL_MS * 8,
      5_000,
    ]);
    assert.equal(checker.consecutiveFailures, 0); // not counted toward failureLimit
    await clock.advance(5_000);
    assert.equal(target.signals.length, 1);
    assert.equal(checker.status.status, 'healthy');
    assert.deepEqual(clock.delays(), [5_000]);
    checker.stop();
  });

  test('a check that cannot run leaves an offline plugin offline', async () => {
    const { checker } = setup([new Error('a'), new Error('b'), new Error('c'), 'throw']);
    for (let i = 0; i < 3; i++) await checker.checkNow();
    assert.equal((await checker.checkNow()).status, 'offline');
  });

  test('stop() clears the scheduled check and aborts a running one; nothing is left', async () => {
    const { clock, checker, target } = setup(['healthy', 'hang']);
    checker.start();
    await clock.advance(1_000);
    assert.equal(checker.active, true);
    checker.stop();
    await flush();
    assert.equal(clock.pending.size, 0);
    assert.equal(checker.active, false);
    assert.equal(target.signals[1]!.aborted, true);
    await checker.checkNow();
    assert.equal(target.signals.length, 2);
  });

  test('the default timers are unref’d, so a checker never keeps the process alive', async () => {
    const healthy: HealthStatus = { status: 'healthy', lastCheck: 0, responseTimeMs: 0 };
    const plugin = { name: 'p', health: () => Promise.resolve(healthy) };
    const checker = new HealthChecker(healthTarget(plugin), { ...config, interval: 60_000 });
    await checker.checkNow();
    checker.start();
    const timer = (checker as unknown as { timer: NodeJS.Timeout }).timer;
    assert.equal(timer.hasRef(), false);
    checker.stop();
    assert.equal(checker.active, false);
  });

  test('a callback that throws does not stop the checks', async () => {
    const clock = fakeTimers();
    const checker = new HealthChecker(scripted('healthy', new Error('x')), config, {
      timers: clock.timers,
      onChange: () => {
        throw new Error('listener bug');
      },
    });
    checker.start();
    await clock.advance(1_000);
    assert.equal(checker.status.status, 'degraded');
    assert.deepEqual(clock.delays(), [1_000]);
    checker.stop();
  });
});

describe('HealthChecker: disabled checks', () => {
  test('disabled checks never call the plugin and say so', async () => {
    const { clock, checker, target } = setup(['healthy'], { enabled: false });
    checker.start();
    const status = await checker.checkNow();
    assert.equal(status.status, 'unknown');
    assert.equal(status.message, 'health checks are disabled');
    assert.equal(target.signals.length, 0);
    assert.equal(clock.pending.size, 0);
  });

  test('enabling them with update() checks at once; disabling stops them', async () => {
    const { clock, checker, target } = setup(['healthy'], { enabled: false });
    checker.start();
    checker.update(config);
    await clock.advance(0);
    assert.equal(checker.status.status, 'healthy');
    assert.deepEqual(clock.delays(), [1_000]);
    checker.update({ ...config, interval: 2_000 });
    assert.deepEqual(clock.delays(), [2_000]);
    checker.update({ ...config, enabled: false });
    assert.equal(clock.pending.size, 0);
    assert.equal(checker.status.status, 'unknown');
    assert.equal(target.signals.length, 1);
    checker.stop();
  });
});
