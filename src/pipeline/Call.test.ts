import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { ErrorCode, applicationError, type PluginError } from '../errors.js';
import { Manager, type ManagerOptions, type RegisterOptions } from '../manager.js';
import { definePlugin } from '../memory.js';
import type { ExecutionContext } from '../types.js';
import { rejection } from '../../test/support/assertions.js';

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown({ timeoutMs: 100 })));
});

function newManager(options: ManagerOptions = {}): Manager<unknown, unknown> {
  const manager = new Manager({ builtinTransports: false, ...options });
  managers.push(manager);
  return manager;
}

/** A transient failure, as a socket would report it. */
function connectionReset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

const fastRetry = {
  maxRetries: 3,
  initialInterval: 1,
  maxInterval: 5,
  multiplier: 2,
  randomJitter: false,
};

async function withPlugin(
  execute: (req: unknown, ctx: ExecutionContext) => unknown,
  options: RegisterOptions = {},
): Promise<Manager> {
  const manager = newManager();
  await manager.register(definePlugin({ name: 'p', execute }), options);
  return manager;
}

describe('execute: outcomes', () => {
  test('returns the plugin response and passes the request through', async () => {
    const manager = await withPlugin((req) => ({ echo: req }));
    assert.deepEqual(await manager.execute('p', { a: 1 }), { echo: { a: 1 } });
  });

  test('an unknown target rejects with PLUGIN_1201 naming it', async () => {
    const manager = newManager();
    const error = await rejection(manager.execute('nope', {}));
    assert.equal(error.code, ErrorCode.PluginNotFound);
    assert.match(error.message, /nope/);
  });

  test('a disabled plugin rejects with PLUGIN_1202 and is never called', async () => {
    let calls = 0;
    const manager = await withPlugin(() => calls++, { enabled: false });
    assert.equal((await rejection(manager.execute('p', {}))).code, ErrorCode.PluginNotEnabled);
    assert.equal(calls, 0);
  });

  test('the plugin sees an absolute deadline, the attempt number and the request id', async () => {
    let seen: { deadline: number; attempt: number; requestId: string } | undefined;
    const manager = await withPlugin((_req, ctx) => {
      seen = { deadline: ctx.deadline, attempt: ctx.attempt, requestId: ctx.requestId };
    });
    const before = Date.now();
    await manager.execute('p', {}, { timeoutMs: 5_000, requestId: 'req-42' });
    assert.ok(seen);
    // The deadline comes from the monotonic clock: allow a few ms of drift against Date.now().
    assert.ok(seen.deadline >= before + 5_000 - 5 && seen.deadline <= Date.now() + 5_000 + 5);
    assert.equal(seen.attempt, 1);
    assert.equal(seen.requestId, 'req-42');
  });

  test('the plugin requestTimeout caps a larger timeoutMs', async () => {
    let deadline = 0;
    const manager = await withPlugin((_req, ctx) => (deadline = ctx.deadline), {
      connection: { requestTimeout: 1_000 },
    });
    const before = Date.now();
    await manager.execute('p', {}, { timeoutMs: 60_000 });
    assert.ok(deadline - before <= 1_000 + 5);
  });
});

describe('execute: a plugin still starting', () => {
  function slowStarter(startMs: number) {
    return definePlugin({
      name: 'p',
      start: () => sleep(startMs),
      execute: () => 'served',
    });
  }

  test('a call made while the plugin starts waits for it', async () => {
    const manager = newManager();
    const registering = manager.register(slowStarter(80));
    assert.equal(await manager.execute('p', {}, { timeoutMs: 2_000 }), 'served');
    await registering;
  });

  test('a call whose deadline ends before the start does rejects with PLUGIN_1204', async () => {
    const manager = newManager();
    const registering = manager.register(slowStarter(300));
    const error = await rejection(manager.execute('p', {}, { timeoutMs: 50 }));
    assert.equal(error.code, ErrorCode.PluginTimeout);
    await registering;
  });
});

describe('execute: deadlines and aborts', () => {
  test('a plugin that never answers rejects with PLUGIN_1204 at the deadline and its signal aborts', async () => {
    let signal: AbortSignal | undefined;
    const manager = await withPlugin((_req, ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    });
    const started = performance.now();
    const error = await rejection(manager.execute('p', {}, { timeoutMs: 100 }));
    const elapsed = performance.now() - started;
    assert.equal(error.code, ErrorCode.PluginTimeout);
    assert.equal(error.plugin, 'p');
    assert.ok(elapsed >= 99, `settled early: ${elapsed} ms`);
    assert.ok(elapsed < 1_000, `settled long after the deadline: ${elapsed} ms`);
    assert.equal(signal?.aborted, true);
    assert.equal((signal?.reason as PluginError).code, ErrorCode.PluginTimeout);
  });

  test("a caller's abort rejects at once with PLUGIN_1206 and is not retried", async () => {
    let calls = 0;
    let pluginSignal: AbortSignal | undefined;
    const manager = await withPlugin(
      (_req, ctx) => {
        calls++;
        pluginSignal = ctx.signal;
        return new Promise(() => {});
      },
      { retry: fastRetry },
    );
    const controller = new AbortController();
    const pending = manager.execute('p', {}, { signal: controller.signal, timeoutMs: 10_000 });
    await sleep(5);
    const abortedAt = performance.now();
    controller.abort(new Error('user went away'));
    const error = await rejection(pending);
    // At once, not at the 10 s deadline (a generous bound: the machine may be busy).
    assert.ok(performance.now() - abortedAt < 1_000);
    assert.equal(error.code, ErrorCode.CallAborted);
    assert.equal(error.retryable, false);
    assert.equal(calls, 1);
    assert.equal(pluginSignal?.aborted, true);
  });

  test('an already-aborted signal rejects without calling the plugin', async () => {
    let calls = 0;
    const manager = await withPlugin(() => calls++);
    const error = await rejection(manager.execute('p', {}, { signal: AbortSignal.abort() }));
    assert.equal(error.code, ErrorCode.CallAborted);
    assert.equal(calls, 0);
    assert.equal(manager.metrics().global.inFlight, 0, 'the refused call left no trace in flight');
  });

  test('retries stop at the deadline: no attempt starts after it', async () => {
    const starts: number[] = [];
    const manager = await withPlugin(
      async () => {
        starts.push(Date.now());
        await sleep(20);
        throw connectionReset();
      },
      {
        retry: {
          maxRetries: 100,
          initialInterval: 10,
          maxInterval: 10,
          multiplier: 1,
          randomJitter: false,
        },
        idempotent: true,
        circuitBreaker: { enabled: false }, // the deadline alone ends it
      },
    );
    const pending = manager.execute('p', {}, { timeoutMs: 400 });
    // The call's deadline is 400 ms after it began: at most this + 400.
    const deadline = Date.now() + 400;
    const error = await rejection(pending);
    assert.ok(starts.length >= 2, 'it retried');
    // ~30 ms per attempt (20 ms of work, 10 ms of backoff): about 13 in 400 ms.
    assert.ok(starts.length < 25, `${starts.length} attempts in 400 ms`);
    for (const start of starts)
      assert.ok(start < deadline, 'an attempt started after the deadline');
    assert.ok(
      [ErrorCode.PluginTimeout, ErrorCode.PluginConnectionFailed].includes(error.code as never),
    );
    await sleep(60);
    assert.equal(starts.filter((s) => s >= deadline).length, 0);
  });
});

describe('execute: retries', () => {
  test('a transient failure of an idempotent plugin is retried and the call succeeds', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        if (++calls < 3) throw connectionReset();
        return 'ok';
      },
      { retry: fastRetry, idempotent: true },
    );
    assert.equal(await manager.execute('p', {}), 'ok');
    assert.equal(calls, 3);
    assert.equal(manager.metrics().plugins.p?.retries, 2);
  });

  test('the attempt number grows with each retry', async () => {
    const attempts: number[] = [];
    const manager = await withPlugin(
      (_req, ctx) => {
        attempts.push(ctx.attempt);
        if (attempts.length < 3) throw connectionReset();
      },
      { retry: fastRetry, idempotent: true },
    );
    await manager.execute('p', {});
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  test('retries end after maxRetries with the last error and the attempt count', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw connectionReset();
      },
      {
        retry: { ...fastRetry, maxRetries: 2 },
        circuitBreaker: { enabled: false },
        idempotent: true,
      },
    );
    const error = await rejection(manager.execute('p', {}));
    assert.equal(calls, 3);
    assert.equal(error.attempts, 3);
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, true);
  });

  test("the plugin's application error is returned as is and never retried", async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw applicationError('insufficient funds', { balance: 3 });
      },
      { retry: fastRetry },
    );
    const error = await rejection(manager.execute('p', {}));
    assert.equal(error.code, ErrorCode.ApplicationError);
    assert.equal(error.message, 'insufficient funds');
    assert.deepEqual(error.details, { balance: 3 });
    assert.equal(calls, 1);
  });

  test('a non-transient failure is not retried', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw new Error('bad request: field x');
      },
      { retry: fastRetry },
    );
    const error = await rejection(manager.execute('p', {}));
    assert.equal(error.code, ErrorCode.PluginExecutionFailed);
    assert.equal(error.retryable, false);
    assert.equal(calls, 1);
  });

  test('an error marked retryable: true is retried', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        if (++calls === 1) throw Object.assign(new Error('busy'), { retryable: true });
        return calls;
      },
      { retry: fastRetry },
    );
    assert.equal(await manager.execute('p', {}), 2);
  });

  test('a retry storm is capped by the retry budget', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw connectionReset();
      },
      {
        retry: {
          maxRetries: 3,
          initialInterval: 0,
          maxInterval: 0,
          multiplier: 1,
          randomJitter: false,
        },
        circuitBreaker: { enabled: false },
        idempotent: true,
      },
    );
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, () => manager.execute('p', {})),
    );
    const seconds = (performance.now() - started) / 1_000;
    assert.ok(results.every((r) => r.status === 'rejected'));
    const retries = calls - 1_000;
    // 20% of calls plus the floor of 10 retries per second; without the budget it would be 3 000.
    const allowed = 0.2 * 1_000 + 10 * Math.ceil(seconds + 1);
    assert.ok(retries > 0, 'some retries were allowed');
    assert.ok(retries <= allowed, `${retries} retries exceed the budget of ${allowed}`);
  });
});

describe('execute: retries follow the failure phase', () => {
  test('a reset after the request was sent is not retried when the call is not idempotent', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw connectionReset();
      },
      { retry: fastRetry },
    );
    const error = await rejection(manager.execute('p', {}));
    assert.equal(calls, 1);
    assert.equal(error.phase, 'sent');
    assert.equal(error.attempts, 1);
  });

  test('ExecuteOptions.idempotent makes one call retryable after a reset', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        if (++calls < 2) throw connectionReset();
        return 'ok';
      },
      { retry: fastRetry },
    );
    assert.equal(await manager.execute('p', {}, { idempotent: true }), 'ok');
    assert.equal(calls, 2);
  });

  test('a not-sent failure is retried beyond maxRetries and without the budget, until it works', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        if (++calls < 6) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        return 'ok';
      },
      {
        retry: { ...fastRetry, maxRetries: 0 },
        circuitBreaker: { enabled: false },
      },
    );
    assert.equal(await manager.execute('p', {}), 'ok');
    assert.equal(calls, 6);
    // Free failovers are not counted as retries.
    assert.equal(manager.metrics().plugins.p?.retries, 0);
  });

  test('a plugin that never accepts is retried until the deadline, without spinning', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      },
      {
        retry: { maxRetries: 0, initialInterval: 0, maxInterval: 0 },
        circuitBreaker: { enabled: false },
      },
    );
    const error = await rejection(manager.execute('p', {}, { timeoutMs: 200 }));
    // Ended by the deadline: during a wait (PLUGIN_1204) or on the last refusal.
    assert.ok(error.phase === 'not-sent' || error.code === ErrorCode.PluginTimeout, error.message);
    assert.ok(calls >= 2, 'it failed over');
    // At least 10 ms between failovers once the only instance failed: ~20 in 200 ms, not thousands.
    assert.ok(calls <= 25, `${calls} attempts in 200 ms`);
  });

  test('a retryRule can stop what the table would retry, and is told the facts', async () => {
    const seen: Array<{ phase: string; suggested: string; attempt: number }> = [];
    let calls = 0;
    const manager = newManager({
      retryRule: (facts) => {
        seen.push({ phase: facts.phase, suggested: facts.suggested, attempt: facts.attempt });
        return 'stop';
      },
    });
    await manager.register(
      definePlugin({
        name: 'p',
        execute: () => {
          calls++;
          throw Object.assign(new Error('busy'), { retryable: true });
        },
      }),
      { retry: fastRetry },
    );
    const error = await rejection(manager.execute('p', {}));
    assert.equal(calls, 1);
    assert.equal(error.phase, 'replied');
    assert.deepEqual(seen, [{ phase: 'replied', suggested: 'retry', attempt: 1 }]);
  });

  test('a per-call retryRule cannot replay a sent request for free: failover becomes a counted retry', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        calls++;
        throw connectionReset();
      },
      { retry: { ...fastRetry, maxRetries: 2 } },
    );
    await rejection(manager.execute('p', {}, { retryRule: () => 'failover' }));
    assert.equal(calls, 3);
    assert.equal(manager.metrics().plugins.p?.retries, 2);
  });
});

describe('execute: circuit breaker', () => {
  const breaker = { failureThreshold: 3, recoveryTimeout: 60_000, successThreshold: 1 };

  test('consecutive failures open the breaker and later calls fail fast with CIRCUIT_1401', async () => {
    let calls = 0;
    const opened: string[] = [];
    const manager = await withPlugin(
      () => {
        calls++;
        throw connectionReset();
      },
      { retry: { maxRetries: 0 }, circuitBreaker: breaker },
    );
    manager.on('circuit-open', (e) => opened.push(e.plugin));
    for (let i = 0; i < 3; i++) await rejection(manager.execute('p', {}));
    const error = await rejection(manager.execute('p', {}));
    assert.equal(error.code, ErrorCode.CircuitBreakerOpen);
    assert.equal(calls, 3);
    assert.deepEqual(opened, ['p']);
    assert.equal(manager.plugins()[0]?.breaker?.state, 'open');
  });

  test('failures separated by a success do not open it (consecutive, not total)', async () => {
    let calls = 0;
    const manager = await withPlugin(
      () => {
        if (++calls % 3 === 0) return 'ok';
        throw connectionReset();
      },
      { retry: { maxRetries: 0 }, circuitBreaker: breaker },
    );
    for (let i = 0; i < 12; i++) await manager.execute('p', {}).catch(() => undefined);
    assert.equal(calls, 12);
    assert.equal(manager.plugins()[0]?.breaker?.state, 'closed');
  });

  test('application errors and caller aborts do not count as failures', async () => {
    const manager = await withPlugin(
      async (req, ctx) => {
        if (req === 'no') throw applicationError('no');
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', reject));
      },
      { retry: { maxRetries: 0 }, circuitBreaker: breaker },
    );
    for (let i = 0; i < 5; i++) {
      await rejection(manager.execute('p', 'no'));
      const controller = new AbortController();
      const call = manager.execute('p', 'hang', { signal: controller.signal });
      controller.abort();
      await rejection(call);
    }
    assert.equal(manager.plugins()[0]?.breaker?.state, 'closed');
  });

  test('half-open lets one probe through at a time, needs successThreshold probes, and a failed probe reopens', async () => {
    let calls = 0;
    let failing = true;
    const manager = await withPlugin(
      async () => {
        calls++;
        await sleep(30);
        if (failing) throw connectionReset();
        return 'ok';
      },
      {
        retry: { maxRetries: 0 },
        // A fixed open period (no backoff), so that the sleeps below outlast each one.
        circuitBreaker: {
          failureThreshold: 1,
          recoveryTimeout: 50,
          recoveryMultiplier: 1,
          successThreshold: 2,
        },
      },
    );
    const state = (): string | undefined => manager.plugins()[0]?.breaker?.state;
    await rejection(manager.execute('p', {}));
    assert.equal(state(), 'open');

    // A failed probe reopens at once.
    await sleep(60);
    calls = 0;
    await rejection(manager.execute('p', {}));
    assert.equal(calls, 1);
    assert.equal(state(), 'open');

    // 20 calls at once in half-open: exactly one reaches the plugin.
    failing = false;
    await sleep(60);
    calls = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => manager.execute('p', {})),
    );
    assert.equal(calls, 1);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(state(), 'half-open', 'one success of the two needed');
    assert.equal(await manager.execute('p', {}), 'ok');
    assert.equal(state(), 'closed');
  });

  test('a call refused by the open breaker, or failed by a plugin that throws at once, settles after execute() returns', async () => {
    const manager = await withPlugin(
      () => {
        throw connectionReset();
      },
      { retry: { maxRetries: 0 }, circuitBreaker: { ...breaker, failureThreshold: 1 } },
    );
    // The plugin throws synchronously: still in flight when execute() returns.
    const thrown = manager.execute('p', {});
    assert.equal(manager.metrics().global.inFlight, 1, 'settled inside execute()');
    assert.equal((await rejection(thrown)).code, ErrorCode.PluginConnectionFailed);
    // The breaker is open now: the refusal too settles a microtask later.
    const refused = manager.execute('p', {});
    assert.equal(manager.metrics().global.inFlight, 1, 'refused inside execute()');
    assert.equal((await rejection(refused)).code, ErrorCode.CircuitBreakerOpen);
    assert.equal(manager.metrics().global.inFlight, 0);
  });

  test('a listener that throws does not break the pipeline', async () => {
    const manager = await withPlugin(
      () => {
        throw connectionReset();
      },
      { retry: { maxRetries: 0 }, circuitBreaker: { ...breaker, failureThreshold: 1 } },
    );
    const background: string[] = [];
    manager.on('circuit-open', () => {
      throw new Error('listener bug');
    });
    manager.on('error', (e) => background.push(e.context));
    assert.equal(
      (await rejection(manager.execute('p', {}))).code,
      ErrorCode.PluginConnectionFailed,
    );
    assert.equal((await rejection(manager.execute('p', {}))).code, ErrorCode.CircuitBreakerOpen);
    assert.deepEqual(background, ["listener of 'circuit-open'"]);
  });
});

describe('execute: a tracer that throws', () => {
  test('spans whose methods throw change nothing: the call answers, runs once, and the error event says where', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Shaped like a refused connection: still never a reason to fail or run the call again.
      const bug = (): never => {
        throw Object.assign(new Error('tracer bug'), { code: 'ECONNREFUSED' });
      };
      let broken = 'attempt';
      const manager = newManager({
        tracer: {
          startCall: () => {
            if (broken === 'call-start') bug();
            return {
              startAttempt: () => ({
                headers: {},
                end: () => void (broken === 'attempt' && bug()),
              }),
              end: () => void (broken === 'call' && bug()),
            };
          },
        },
      });
      const faults: string[] = [];
      manager.on('error', (e) => faults.push(e.context));
      let runs = 0;
      await manager.register(
        definePlugin({
          name: 'p',
          execute: () => {
            runs++;
            return 'ok';
          },
        }),
        { retry: fastRetry },
      );
      for (const where of ['attempt', 'call', 'call-start']) {
        broken = where;
        assert.equal(await manager.execute('p', {}, { timeoutMs: 5_000 }), 'ok', where);
      }
      assert.equal(runs, 3, 'a call ran twice because its tracer threw');
      assert.deepEqual(faults, [
        'tracer: AttemptSpan.end',
        'tracer: CallSpan.end',
        'tracer: CallTracer.startCall',
      ]);
      assert.equal(manager.metrics().global.inFlight, 0);
      assert.equal(
        manager.metrics().plugins.p?.inFlight,
        0,
        'the attempt stayed counted in flight',
      );
      await sleep(10); // an unhandled rejection is reported after the microtasks
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('execute: rate limit', () => {
  test('over the burst, calls are refused at once with RATELIMIT_1501', async () => {
    let calls = 0;
    const manager = await withPlugin(() => calls++, {
      rateLimit: { enabled: true, requestsPerSecond: 1, burstSize: 3 },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => manager.execute('p', {})),
    );
    const refused = results.filter(
      (r) =>
        r.status === 'rejected' && (r.reason as PluginError).code === ErrorCode.RateLimitExceeded,
    );
    assert.equal(calls, 3);
    assert.equal(refused.length, 2);
    assert.equal(manager.metrics().plugins.p?.rateLimited, 2);
  });

  test('with maxWait a call waits for a token within its deadline', async () => {
    let calls = 0;
    const manager = await withPlugin(() => ++calls, {
      rateLimit: { enabled: true, requestsPerSecond: 50, burstSize: 1, maxWait: 500 },
    });
    const results = await Promise.all([manager.execute('p', {}), manager.execute('p', {})]);
    assert.deepEqual(results.sort(), [1, 2]);
  });
});

describe('shutdown', () => {
  test('waits for in-flight calls, refuses new ones and closes plugins', async () => {
    let closed = 0;
    const manager = newManager();
    await manager.register(
      definePlugin({
        name: 'p',
        execute: async () => {
          await sleep(30);
          return 'done';
        },
        close: async () => void closed++,
      }),
    );
    const inFlight = manager.execute('p', {});
    const stopping = manager.shutdown({ timeoutMs: 1_000 });
    assert.equal((await rejection(manager.execute('p', {}))).code, ErrorCode.ManagerClosed);
    assert.equal(await inFlight, 'done');
    await stopping;
    assert.equal(closed, 1);
    assert.equal(manager.plugins().length, 0);
  });

  test('a whenReady() still waiting is rejected by the shutdown', async () => {
    const manager = newManager();
    const waiting = manager.whenReady();
    await sleep(5);
    await manager.shutdown();
    const error = await rejection(waiting);
    assert.equal(error.code, ErrorCode.ManagerNotReady);
    assert.match(error.message, /shutting down/);
    assert.equal((await rejection(manager.whenReady())).code, ErrorCode.ManagerClosed);
  });

  test('aborts calls still running after its timeout with PLUGIN_1207', async () => {
    let signal: AbortSignal | undefined;
    const manager = await withPlugin((_req, ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    });
    const pending = manager.execute('p', {});
    await sleep(1);
    await manager.shutdown({ timeoutMs: 20 });
    const error = await rejection(pending);
    assert.equal(error.code, ErrorCode.ManagerClosed);
    assert.equal(signal?.aborted, true);
  });
});
