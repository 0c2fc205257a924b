import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Manager } from '../manager.js';
import { definePlugin } from '../memory.js';
import type { Logger } from '../types.js';
import { LevelFilter } from './logger.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]): void => {
      lines.push(`${level}:${args.length === 2 ? String(args[1]) : '(no message)'}`);
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function logAll(logger: Logger): void {
  logger.debug({}, 'd');
  logger.info({}, 'i');
  logger.warn({}, 'w');
  logger.error({}, 'e');
}

describe('LevelFilter', () => {
  test('passes every level until a level is set, then only that level and above', () => {
    const host = capture();
    const filter = new LevelFilter(host);
    logAll(filter);
    filter.setLevel('warn');
    logAll(filter);
    filter.setLevel('error');
    logAll(filter);
    filter.setLevel(undefined);
    logAll(filter);
    assert.deepEqual(host.lines, [
      ...['debug:d', 'info:i', 'warn:w', 'error:e'],
      ...['warn:w', 'error:e'],
      ...['error:e'],
      ...['debug:d', 'info:i', 'warn:w', 'error:e'],
    ]);
  });

  test('keeps the host logger as `this` and leaves out a message the caller left out', () => {
    const seen: unknown[] = [];
    const host = {
      name: 'host',
      debug(this: { name: string }, ...args: unknown[]) {
        seen.push(this.name, args.length);
      },
      info() {},
      warn() {},
      error() {},
    };
    new LevelFilter(host).debug({ a: 1 });
    assert.deepEqual(seen, ['host', 1]);
  });
});

describe("the config's log_level", () => {
  const failingStart = (name: string) =>
    definePlugin({
      name,
      start: () => Promise.reject(new Error('no backend')),
      execute: (req: unknown) => req,
    });

  test('filters what the manager writes to the host logger, and a reload changes it', async () => {
    const host = capture();
    const manager = new Manager({ logger: host });
    try {
      await manager.load({ log_level: 'ERROR', plugins: [] });
      await manager.register(failingStart('a'), { startup: { maxAttempts: 1 } });
      assert.deepEqual(host.lines, [], 'the failed start attempt (warn) was dropped');

      await manager.reload({ log_level: 'warn', plugins: [] });
      assert.deepEqual(host.lines, [], '"reloaded" (info) was dropped');
      await manager.register(failingStart('b'), { startup: { maxAttempts: 1 } });
      assert.deepEqual(host.lines, ["warn:plugwire: start attempt of 'b' failed"]);

      await manager.reload({ plugins: [] }); // no level: everything goes to the host logger
      assert.equal(host.lines.at(-1), 'info:plugwire: reloaded');
    } finally {
      await manager.shutdown();
    }
  });
});
