import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/builtinConfig.js';
import { ErrorCode, isConfigError, type ConfigError } from '../../src/errors.js';
import { Manager } from '../../src/manager.js';
import { diffConfigs } from '../../src/index.js';
import { httpFactory } from '../../src/transport/http/index.js';
import { serveHttp } from '../../src/sdk/http.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function configError(promise: Promise<unknown> | (() => unknown)): Promise<ConfigError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    assert.ok(isConfigError(error), `not a ConfigError: ${String(error)}`);
    return error;
  }
  assert.fail('no error');
}

describe('a manager without the built-in transports', () => {
  test('refuses an http plugin with PLUGIN_1008 naming the fix, and creates nothing', async () => {
    const manager = new Manager({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    const config = { plugins: [{ name: 'p', transport: 'http', endpoint: 'http://127.0.0.1:9' }] };
    const error = await configError(manager.load(config));
    assert.deepEqual(
      error.issues.map((i) => [i.path, i.code]),
      [['plugins[0].transport', ErrorCode.UnsupportedTransport]],
    );
    assert.match(error.message, /builtinTransports: false/);
    assert.match(error.message, /registerFactory\("http"/);
    assert.deepEqual(manager.plugins(), []);
    // A reload says the same.
    const reload = await configError(manager.reload(config));
    assert.equal(reload.issues[0]!.code, ErrorCode.UnsupportedTransport);
  });

  test('takes the plugin once a factory is registered for its transport', async () => {
    const served = await serveHttp(async (n: number) => n + 1);
    cleanups.push(() => served.close());
    const manager = new Manager<number, number>({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    manager.registerFactory('http', httpFactory);
    await manager.load({ plugins: [{ name: 'p', transport: 'http', endpoint: served.endpoint }] });
    assert.equal(await manager.execute('p', 1), 2);
  });

  test('does not offer "in-process" as a transport to configs', async () => {
    const manager = new Manager({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    const error = await configError(
      manager.load({ plugins: [{ name: 'p', transport: 'in-process' }] }),
    );
    assert.equal(error.issues[0]!.code, ErrorCode.UnsupportedTransport);
  });
});

describe('diffConfigs', () => {
  test('validates raw configs (snake_case, Go durations) before comparing them', () => {
    const old = {
      plugins: [{ name: 'a', transport: 'http', endpoint: 'http://127.0.0.1:1' }],
    };
    const next = {
      plugins: [
        {
          name: 'a',
          transport: 'http',
          endpoint: 'http://127.0.0.1:1',
          circuit_breaker: { failure_threshold: 9 },
        },
      ],
    };
    const diff = diffConfigs(old, next);
    assert.deepEqual(diff.updated, [
      { name: 'a', changes: ['circuitBreaker.failureThreshold'], mode: 'in-place' },
    ]);
  });

  test('throws a ConfigError, not a TypeError, for input that is not a config', async () => {
    for (const [old, next] of [
      [undefined, undefined],
      [null, { plugins: [] }],
      [{ plugins: [] }, 'plugins.yaml'],
      [{ plugins: [{ name: 'a' }] }, { plugins: [] }],
    ] as const) {
      const error = await configError(() => diffConfigs(old, next));
      assert.match(error.message, /diffConfigs\((old|next)\)/);
    }
  });

  test('takes configs returned by parseConfig as they are, registered transports included', () => {
    const amqp = new Map([['amqp', {}]]);
    const old = parseConfig({ plugins: [{ name: 'q', transport: 'amqp' }] }, { transports: amqp });
    const next = parseConfig(
      { plugins: [{ name: 'q', transport: 'amqp', weight: 3 }] },
      { transports: amqp },
    );
    assert.deepEqual(
      diffConfigs(old, next).updated.map((u) => u.changes),
      [['weight']],
    );
    // The same raw objects need the transport named.
    assert.ok(
      diffConfigs(
        { plugins: [{ name: 'q', transport: 'amqp' }] },
        { plugins: [] },
        {
          transports: amqp,
        },
      ).removed.includes('q'),
    );
  });
});
