// One registry scope: each manager has its own transports and balancing strategies (the
// built-in ones pre-registered), and configs read through it accept exactly those names.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/builtinConfig.js';
import { ErrorCode, isConfigError, type ConfigError } from '../../src/errors.js';
import { Manager } from '../../src/manager.js';
import { definePlugin } from '../../src/memory.js';
import type { Balancer } from '../../src/balance/types.js';
import { tempDir } from '../support/tmp.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(isConfigError(error), `not a ConfigError: ${String(error)}`);
    return error;
  }
  assert.fail('no error');
}

async function rejects(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isConfigError(error), `not a ConfigError: ${String(error)}`);
    return error;
  }
  assert.fail('no error');
}

describe('transports', () => {
  test('parseConfig with builtinTransports: false refuses a built-in name with PLUGIN_1008', () => {
    const config = { plugins: [{ name: 'p', transport: 'http', endpoint: 'http://127.0.0.1:9' }] };
    assert.equal(parseConfig(config).plugins[0]!.transport, 'http');
    const error = configError(() => parseConfig(config, { builtinTransports: false }));
    assert.deepEqual(
      error.issues.map((i) => [i.path, i.code]),
      [['plugins[0].transport', ErrorCode.UnsupportedTransport]],
    );
  });

  test('a discovered plugin of an unregistered built-in transport is refused as a config problem, not created', async () => {
    const { dir, remove } = tempDir('plugwire-registries-');
    cleanups.push(remove);
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'tool'), 0o755);
    const manager = new Manager({ builtinTransports: false });
    cleanups.push(() => manager.shutdown());
    const rejected: string[] = [];
    manager.on('plugin-rejected', (event) => rejected.push(event.reason));
    const result = await manager.load({
      discovery: { enabled: true, directories: [dir], patterns: ['tool'] },
      plugins: [],
    });
    assert.deepEqual(result.plugins, []);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /PLUGIN_1008/);
    assert.match(rejected[0]!, /registerFactory\("exec"/);
    assert.deepEqual(manager.plugins(), []);
  });
});

describe('balancing strategies', () => {
  const lastOne: Balancer = { pick: (candidates) => candidates.at(-1) };
  const config = {
    groups: { g: { strategy: 'last-one' } },
    plugins: [],
  };

  test('a strategy registered on one manager is usable there and unknown to another', async () => {
    const mine = new Manager<number, string>({ builtinTransports: false });
    const other = new Manager<number, string>({ builtinTransports: false });
    cleanups.push(
      () => mine.shutdown(),
      () => other.shutdown(),
    );
    mine.registerBalancer('last-one', () => lastOne);

    await mine.load(config);
    for (const name of ['a', 'b', 'c']) {
      await mine.register(definePlugin({ name, execute: () => name }), { group: 'g' });
    }
    assert.equal(await mine.execute('g', 1), 'c');

    const error = await rejects(other.load(config));
    assert.equal(error.issues[0]!.path, 'groups.g.strategy');
    assert.match(error.issues[0]!.message, /round-robin/);
    assert.doesNotMatch(error.issues[0]!.message, /last-one/);
  });
});
