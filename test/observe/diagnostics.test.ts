import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCode,
  Manager,
  applicationError,
  definePlugin,
  isPluginError,
} from '../../src/index.js';
import type { ExecutionContext } from '../../src/index.js';

// Subscribed by channel name, as an APM agent would: no import of plugwire's channel objects.
const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type Seen = { channel: string; event: string; message: Record<string, unknown> };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function record(): Seen[] {
  const seen: Seen[] = [];
  for (const name of ['plugwire:execute', 'plugwire:attempt']) {
    const channel = tracingChannel<unknown, Record<string, unknown>>(name);
    const handlers = Object.fromEntries(
      EVENTS.map((event) => [
        event,
        (message: Record<string, unknown>) => {
          seen.push({ channel: name.slice(9), event, message: { ...message } });
        },
      ]),
    ) as unknown as Parameters<typeof channel.subscribe>[0];
    channel.subscribe(handlers);
    cleanups.push(() => channel.unsubscribe(handlers));
  }
  return seen;
}

async function manager(
  execute: (req: unknown, ctx: ExecutionContext) => unknown,
  options: Record<string, unknown> = {},
): Promise<Manager> {
  const m = new Manager({ builtinTransports: false });
  cleanups.push(() => m.shutdown({ timeoutMs: 100 }));
  await m.register(definePlugin({ name: 'p', execute }), { group: 'g', ...options });
  return m;
}

const trail = (seen: Seen[]): string[] => seen.map((s) => `${s.channel}:${s.event}`);

describe('diagnostics_channel', () => {
  test('a successful call publishes start/end/asyncStart/asyncEnd for the call and its attempt', async () => {
    const m = await manager((req) => ({ echo: req }));
    const seen = record();
    const response = await m.execute('g', 7, { requestId: 'req-1', operation: 'op' });
    assert.deepEqual(response, { echo: 7 });
    assert.deepEqual(trail(seen), [
      'execute:start',
      'attempt:start',
      'attempt:end',
      'execute:end',
      'attempt:asyncStart',
      'attempt:asyncEnd',
      'execute:asyncStart',
      'execute:asyncEnd',
    ]);
    assert.deepEqual(seen[0]!.message, {
      target: 'g',
      requestId: 'req-1',
      operation: 'op',
      attempts: 0,
    });
    const attemptEnd = seen.find((s) => s.channel === 'attempt' && s.event === 'asyncEnd')!;
    assert.deepEqual(attemptEnd.message, {
      target: 'g',
      plugin: 'p',
      group: 'g',
      attempt: 1,
      requestId: 'req-1',
      outcome: 'success',
      result: { echo: 7 },
    });
    const callEnd = seen.at(-1)!;
    assert.equal(callEnd.message.outcome, 'success');
    assert.equal(callEnd.message.attempts, 1);
    assert.deepEqual(callEnd.message.result, { echo: 7 });
  });

  test('a retried call publishes an error for the failed attempt and one set per attempt', async () => {
    let calls = 0;
    const m = await manager(
      () => {
        if (++calls === 1)
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        return 'ok';
      },
      {
        retry: { maxRetries: 2, initialInterval: 1, maxInterval: 2, randomJitter: false },
        idempotent: true,
      },
    );
    const seen = record();
    assert.equal(await m.execute('p', null), 'ok');
    const attempts = seen.filter((s) => s.channel === 'attempt');
    assert.deepEqual(
      attempts.map((s) => `${s.message.attempt}:${s.event}`),
      [
        '1:start',
        '1:end',
        '1:error',
        '1:asyncStart',
        '1:asyncEnd',
        '2:start',
        '2:end',
        '2:asyncStart',
        '2:asyncEnd',
      ],
    );
    const failed = attempts[2]!.message;
    assert.equal(failed.outcome, 'failure');
    assert.ok(isPluginError(failed.error));
    const calls_ = seen.filter((s) => s.channel === 'execute').map((s) => s.event);
    assert.deepEqual(calls_, ['start', 'end', 'asyncStart', 'asyncEnd']);
    assert.equal(seen.at(-1)!.message.attempts, 2);
  });

  test('a failed call publishes error with the PluginError it rejects with', async () => {
    const m = await manager(() => {
      throw applicationError('no such account');
    });
    const seen = record();
    const rejected = await m.execute('p', null).catch((e: unknown) => e);
    const errors = seen.filter((s) => s.event === 'error');
    assert.deepEqual(
      errors.map((s) => s.channel),
      ['attempt', 'execute'],
    );
    assert.equal(errors[1]!.message.error, rejected);
    assert.equal(errors[1]!.message.outcome, 'application_error');
    assert.equal((rejected as { code: string }).code, ErrorCode.ApplicationError);
    assert.deepEqual(trail(seen).slice(-2), ['execute:asyncStart', 'execute:asyncEnd']);
  });

  test('an attempt abandoned at the deadline ends once, as a timeout, even if the plugin answers later', async () => {
    const m = await manager(async () => {
      await sleep(80);
      return 'late';
    });
    const seen = record();
    const error = await m.execute('p', null, { timeoutMs: 20 }).catch((e: unknown) => e);
    assert.equal((error as { code: string }).code, ErrorCode.PluginTimeout);
    await sleep(100); // the plugin's late answer must not end the attempt a second time
    const attemptEnds = seen.filter((s) => s.channel === 'attempt' && s.event === 'asyncEnd');
    assert.equal(attemptEnds.length, 1);
    assert.equal(attemptEnds[0]!.message.outcome, 'timeout');
    assert.equal(seen.filter((s) => s.event === 'error').length, 2);
  });

  test('a store bound to start is the active context inside the plugin', async () => {
    const store = new AsyncLocalStorage<string>();
    const attempt = tracingChannel<string, Record<string, unknown>>('plugwire:attempt');
    const call = tracingChannel<string, Record<string, unknown>>('plugwire:execute');
    call.start.bindStore(store, (m) => `call ${m.target as string}`);
    attempt.start.bindStore(
      store,
      (m) => `attempt ${m.attempt as number} on ${m.plugin as string}`,
    );
    cleanups.push(() => {
      call.start.unbindStore(store);
      attempt.start.unbindStore(store);
    });
    const inside: Array<string | undefined> = [];
    const m = await manager(async () => {
      inside.push(store.getStore());
      await sleep(1);
      inside.push(store.getStore());
      return null;
    });
    await m.execute('g', null);
    assert.deepEqual(inside, ['attempt 1 on p', 'attempt 1 on p']);
    assert.equal(store.getStore(), undefined);
  });

  test('with nobody subscribed nothing is published', async () => {
    const m = await manager(() => 'ok');
    const seen = record();
    for (const cleanup of cleanups.splice(1)) cleanup(); // unsubscribe, keep the manager's
    assert.equal(tracingChannel('plugwire:execute').hasSubscribers, false);
    assert.equal(await m.execute('p', null), 'ok');
    assert.deepEqual(seen, []);
  });
});
