import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Manager, applicationError, definePlugin, isPluginError } from '../../src/index.js';

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('10,000 concurrent calls to flaky plugins each settle once and leave nothing behind', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const timersBefore = timers();

  const manager = new Manager<number, number>({ builtinTransports: false });
  let seed = 42;
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (const name of ['a', 'b', 'c', 'd']) {
    await manager.register(
      definePlugin<number, number>({
        name,
        async execute(n, ctx) {
          const roll = random();
          if (roll < 0.15) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
          if (roll < 0.25) throw applicationError('no');
          if (roll < 0.3) throw new Error('bug');
          if (roll < 0.35) {
            // Hangs until the call ends, then rejects like a well-behaved transport.
            return new Promise((_, reject) =>
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }),
            );
          }
          if (roll < 0.4) return new Promise(() => {}); // never answers, ignores its signal
          if (roll < 0.6) await sleep(Math.floor(random() * 5));
          return n * 2;
        },
      }),
      {
        retry: { maxRetries: 2, initialInterval: 1, maxInterval: 4, multiplier: 2 },
        circuitBreaker: { failureThreshold: 20, recoveryTimeout: 20, successThreshold: 2 },
      },
    );
  }

  const caller = new AbortController();
  const calls = 10_000;
  let settlements = 0;
  const outcomes = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) => {
      const target = ['a', 'b', 'c', 'd'][i % 4]!;
      const options =
        i % 10 === 0 ? { signal: caller.signal, timeoutMs: 200 } : { timeoutMs: 50 + (i % 7) * 10 };
      return manager.execute(target, i, options).finally(() => settlements++);
    }).concat(
      // Half-way through, the caller aborts the calls that share its signal.
      sleep(20).then(() => {
        caller.abort();
        return -1;
      }),
    ),
  );
  outcomes.pop();

  assert.equal(settlements, calls);
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected')
      assert.ok(isPluginError(outcome.reason), String(outcome.reason));
  }
  const metrics = manager.metrics();
  assert.equal(metrics.global.total, calls, 'every call settled exactly once');
  assert.equal(metrics.global.inFlight, 0);
  assert.ok(metrics.global.success > 0 && metrics.global.failure > 0);
  assert.equal(
    getEventListeners(caller.signal, 'abort').length,
    0,
    'no listener left on the caller signal',
  );

  for (const snapshot of Object.values(metrics.plugins)) assert.equal(snapshot.inFlight, 0);
  await manager.shutdown({ timeoutMs: 1_000 });
  assert.equal(manager.metrics().global.inFlight, 0);
  await sleep(10); // let the last cleared timers leave the active list
  assert.ok(timers() <= timersBefore, `timers left behind: ${timers() - timersBefore}`);
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, []);
});
