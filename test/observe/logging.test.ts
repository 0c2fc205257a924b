import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import type { AuthConfig } from '../../src/config/types.js';
import type { ManagerEvents } from '../../src/events.js';
import { ErrorCode, isPluginError, type PluginError } from '../../src/errors.js';
import { Manager } from '../../src/manager.js';
import { serveHttp } from '../../src/sdk/http.js';
import type { Logger } from '../../src/types.js';

// ---------- helpers ----------

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
const HANG_GUARD = { timeout: 20_000 };

interface Entry {
  level: string;
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** A logger that keeps every entry, as pino would receive it. */
function captureLogger(): Logger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message?: string): void => {
      entries.push({ level, fields, message });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const EVENTS: Array<keyof ManagerEvents> = [
  'plugin-state',
  'plugin-added',
  'plugin-removed',
  'startup-attempt-failed',
  'health-change',
  'ready',
  'unready',
  'circuit-open',
  'circuit-half-open',
  'circuit-close',
  'retry',
  'rate-limited',
  'reload-start',
  'reload-step',
  'reload',
  'reload-failed',
  'error',
  'shutdown',
];

/** Every event the manager emits, with its name. */
function captureEvents(manager: Manager): Array<{ name: string; event: unknown }> {
  const seen: Array<{ name: string; event: unknown }> = [];
  for (const name of EVENTS) manager.on(name, (event) => seen.push({ name, event }));
  // Emitted by managers that report each health check; harmless where it does not exist.
  const onAny = manager.on as unknown as (name: string, l: (e: unknown) => void) => void;
  onAny.call(manager, 'health-check', (event) => seen.push({ name: 'health-check', event }));
  return seen;
}

/** Errors as a JSON logger would write them: message, stack, own fields and cause. */
function serialise(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Error && !isPluginError(v)
      ? { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause }
      : v,
  );
}

/** Asserts that neither the JSON nor a deep inspection of `value` contains a secret. */
function assertNoSecret(what: string, value: unknown, secrets: string[]): void {
  const views = [serialise(value), inspect(value, { depth: 12, showHidden: false })];
  for (const view of views) {
    for (const secret of secrets) {
      assert.ok(!view.includes(secret), `${what} contains the secret ${JSON.stringify(secret)}`);
    }
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await sleep(10);
  assert.ok(condition(), what);
}

const AUTHS: Array<{ method: string; auth: AuthConfig; secrets: string[] }> = [
  {
    method: 'bearer',
    auth: { method: 'bearer', token: 'tok-7c1e9a55-bearer-secret' },
    secrets: ['tok-7c1e9a55-bearer-secret'],
  },
  {
    method: 'api-key',
    auth: { method: 'api-key', apiKey: 'key-3f08d2b6-api-secret' },
    secrets: ['key-3f08d2b6-api-secret'],
  },
  {
    method: 'basic',
    auth: { method: 'basic', username: 'svc-user', password: 'pw-91b4e7c0-basic-secret' },
    secrets: [
      'pw-91b4e7c0-basic-secret',
      Buffer.from('svc-user:pw-91b4e7c0-basic-secret').toString('base64'),
    ],
  },
];

// ---------- the scenario ----------

/**
 * A plugin whose server answers 500 to every call, then goes away: retries, an open breaker, a
 * half-open probe, refused connections, failed health checks (offline), then shutdown.
 */
async function failingPluginScenario(auth: AuthConfig) {
  const served = await serveHttp(async () => {
    throw new Error('backend unavailable'); // a 500 for every call
  });
  cleanups.push(() => served.close());
  const logger = captureLogger();
  const manager = new Manager({ logger });
  cleanups.push(() => manager.shutdown());
  const events = captureEvents(manager);
  const errors: unknown[] = [];

  await manager.load({
    plugins: [
      {
        name: 'vault',
        transport: 'http',
        endpoint: served.endpoint,
        auth,
        retry: { maxRetries: 1, initialInterval: '1ms' },
        circuitBreaker: { enabled: true, failureThreshold: 2, recoveryTimeout: '50ms' },
        healthCheck: { enabled: true, interval: '20ms', timeout: '500ms', failureLimit: 1 },
      },
      {
        // Same server, no breaker and no retry: its last error is the refused connection
        // (refused = not sent: failed over until the deadline, hence a short one).
        name: 'vault-direct',
        transport: 'http',
        endpoint: served.endpoint,
        auth,
        retry: { maxRetries: 0 },
        circuitBreaker: { enabled: false },
        connection: { requestTimeout: '300ms' },
        healthCheck: { enabled: false },
      },
    ],
  });
  // 500s, retried, until the breaker opens.
  for (let i = 0; i < 3; i++) errors.push(await manager.execute('vault', i).catch((e) => e));
  await served.close();
  await until(() => manager.health().vault?.status === 'offline', 'the plugin went offline');
  await sleep(60); // past the breaker's recovery: the next call probes the dead server
  errors.push(await manager.execute('vault', 4).catch((e) => e));
  errors.push(await manager.execute('vault-direct', 5).catch((e) => e));
  await manager.shutdown();
  return { logs: logger.entries, events, errors };
}

describe('secrets stay out of logs, events and errors', () => {
  for (const { method, auth, secrets } of AUTHS) {
    test(
      `with ${method} auth, through failures, a dead plugin and shutdown`,
      HANG_GUARD,
      async () => {
        const { logs, events, errors } = await failingPluginScenario(auth);

        // Something worth logging happened, and it was captured.
        assert.ok(errors.length === 5 && errors.every(isPluginError), 'every call failed');
        const codes = new Set(errors.map((e) => (e as PluginError).code));
        for (const code of [
          ErrorCode.HTTPTransportError, // the 500s
          ErrorCode.CircuitBreakerOpen,
          ErrorCode.PluginConnectionFailed, // refused, with undici's error as its cause
        ]) {
          assert.ok(codes.has(code), `an error ${code} was thrown`);
        }
        const names = new Set(events.map((e) => e.name));
        for (const name of ['circuit-open', 'health-change', 'retry', 'shutdown']) {
          assert.ok(names.has(name), `a ${name} event was emitted`);
        }
        assert.ok(
          logs.some((e) => e.level === 'warn'),
          'warnings were logged',
        );

        assertNoSecret('the logs', logs, secrets);
        assertNoSecret('the events', events, secrets);
        assertNoSecret(
          "the errors' toJSON()",
          errors.map((e) => (e as PluginError).toJSON()),
          secrets,
        );
        assertNoSecret('the errors', errors, secrets);
      },
    );
  }

  test('a rejected config names no secret', async () => {
    const manager = new Manager();
    cleanups.push(() => manager.shutdown());
    const error = await manager
      .load({
        plugins: AUTHS.map(({ method, auth }) => ({
          name: `p-${method}`,
          transport: 'http',
          endpoint: 'not a url',
          auth,
        })),
      })
      .catch((e: unknown) => e);
    assert.ok(isPluginError(error), 'the config was rejected');
    assertNoSecret(
      'the config error',
      [error.toJSON(), error.message],
      AUTHS.flatMap((a) => a.secrets),
    );
  });
});
