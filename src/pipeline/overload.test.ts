import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ErrorCode, isPluginError, type PluginError } from '../errors.js';
import { Manager } from '../manager.js';
import { definePlugin } from '../memory.js';

const managers: Manager<number, number>[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.shutdown({ timeoutMs: 0 });
});

/**
 * A plugin that counts every request it receives (by its number) and holds each one until
 * `release()`: what reached it, and how often, is exactly known.
 */
function countingPlugin(name: string) {
  const received = new Map<number, number>();
  const held: Array<() => void> = [];
  const plugin = definePlugin<number, number>({
    name,
    execute(n) {
      received.set(n, (received.get(n) ?? 0) + 1);
      return new Promise<number>((resolve) => held.push(() => resolve(n * 2)));
    },
  });
  return {
    plugin,
    received,
    held: () => held.length,
    release: () => {
      for (const answer of held.splice(0)) answer();
    },
  };
}

async function managerWith(
  plugins: Array<ReturnType<typeof countingPlugin>>,
  connection: { maxConnections: number; maxPending: number },
  group?: string,
): Promise<Manager<number, number>> {
  const manager = new Manager<number, number>({ builtinTransports: false });
  managers.push(manager);
  for (const { plugin } of plugins) {
    await manager.register(plugin, {
      group,
      connection,
      // Retries on: a refused call must still reach the plugin never, and no call twice.
      retry: { maxRetries: 3, initialInterval: 1, maxInterval: 2 },
      healthCheck: { enabled: false },
    });
  }
  return manager;
}

/** Settles every promise; returns how each ended, in order. */
function outcomes(calls: Array<Promise<number>>) {
  return Promise.allSettled(calls);
}

describe('a bounded queue per plugin (connection.maxPending)', () => {
  test('a full queue refuses the calls beyond maxConnections + maxPending at once, with RATELIMIT_1502', async () => {
    const counting = countingPlugin('slow');
    const manager = await managerWith([counting], { maxConnections: 2, maxPending: 3 });
    const calls = Array.from({ length: 20 }, (_, n) => manager.execute('slow', n));
    const refused = calls.slice(5);

    // The 15 refusals settle while the plugin still holds every call it accepted: none of them
    // waited for a slot.
    const early = await outcomes(refused);
    assert.equal(counting.held(), 5, 'the plugin holds the 5 accepted calls');
    for (const outcome of early) {
      assert.equal(outcome.status, 'rejected');
      const error = (outcome as PromiseRejectedResult).reason as PluginError;
      assert.ok(isPluginError(error), String(error));
      assert.equal(error.code, ErrorCode.PluginQueueFull);
      assert.equal(error.retryable, true, 'retryable elsewhere');
      assert.equal(error.attempts, 1, 'not retried on the same plugin');
      assert.equal(error.plugin, 'slow');
      assert.match(error.message, /maxPending 3/);
    }

    counting.release();
    const accepted = await outcomes(calls.slice(0, 5));
    assert.deepEqual(
      accepted.map((o) => (o.status === 'fulfilled' ? o.value : o.reason)),
      [0, 2, 4, 6, 8],
    );
    // Never lost, never duplicated: each accepted call reached the plugin exactly once, and no
    // refused one reached it at all.
    assert.deepEqual(
      [...counting.received].sort((a, b) => a[0] - b[0]),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
      ],
    );
    const metrics = manager.metrics();
    assert.equal(metrics.global.total, 20, 'every call settled exactly once');
    assert.equal(metrics.global.success, 5);
    assert.equal(metrics.global.byCode[ErrorCode.PluginQueueFull], 15);
    assert.equal(metrics.plugins.slow?.queueRejected, 15);
    assert.equal(metrics.plugins.slow?.inFlight, 0);
    assert.equal(metrics.plugins.slow?.retries, 0);
  });

  test('once the queue drains the plugin takes calls again, and a refusal does not open its breaker', async () => {
    const counting = countingPlugin('slow');
    const manager = await managerWith([counting], { maxConnections: 1, maxPending: 0 });
    const first = manager.execute('slow', 1);
    for (let i = 0; i < 10; i++) {
      await assert.rejects(manager.execute('slow', 100 + i), { code: ErrorCode.PluginQueueFull });
    }
    counting.release();
    assert.equal(await first, 2);
    const second = manager.execute('slow', 2);
    counting.release();
    assert.equal(await second, 4);
    assert.equal(manager.plugins()[0]?.breaker?.state, 'closed');
    assert.deepEqual([...counting.received.keys()], [1, 2]);
  });

  test('a group passes a full member over, and refuses with RATELIMIT_1502 only when all are full', async () => {
    const a = countingPlugin('a');
    const b = countingPlugin('b');
    const manager = await managerWith([a, b], { maxConnections: 1, maxPending: 0 }, 'pool');
    const calls = [1, 2, 3].map((n) => manager.execute('pool', n));
    const third = await outcomes([calls[2]!]);
    assert.equal(a.held(), 1, 'the first call went to one member');
    assert.equal(b.held(), 1, 'the second to the other, not behind the first');
    const error = (third[0] as PromiseRejectedResult).reason as PluginError;
    assert.equal(error.code, ErrorCode.PluginQueueFull);
    assert.equal(error.retryable, true);
    assert.match(error.message, /all with a full queue/);
    a.release();
    b.release();
    assert.deepEqual((await Promise.all(calls.slice(0, 2))).sort(), [2, 4]);
    assert.deepEqual([...a.received.keys(), ...b.received.keys()].sort(), [1, 2]);
  });

  test('maxPending is validated, defaults to 256, and a reload changes it in place', async () => {
    const manager = new Manager<number, number>({ builtinTransports: false });
    managers.push(manager);
    await assert.rejects(
      manager.register(countingPlugin('x').plugin, { connection: { maxPending: -1 } }),
      (error: unknown) => /connection\.maxPending/.test(String(error)),
    );
    const { canApplyInPlace } = await import('../reload/rules.js');
    assert.equal(canApplyInPlace('connection.maxPending'), true);
    const { DEFAULT_POLICY } = await import('../config/defaults.js');
    assert.equal(DEFAULT_POLICY.connection.maxPending, 256);
  });
});
