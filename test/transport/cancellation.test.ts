// Every built-in transport runs a call from ExecutionContext.cancellation alone: it never builds
// the AbortSignal (`ctx.signal` costs an AbortController per attempt), it stops listening once the
// call settles, and firing the cancellation ends the call at once.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { ErrorCode, isPluginError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { serveGrpc } from '../../src/sdk/grpc.js';
import { serveHttp } from '../../src/sdk/http.js';
import type { ServedPlugin } from '../../src/sdk/types.js';
import { serveUnix } from '../../src/sdk/unix.js';
import { ExecPlugin } from '../../src/transport/exec/index.js';
import { grpcFactory } from '../../src/transport/grpc/index.js';
import { httpFactory } from '../../src/transport/http/index.js';
import { unixFactory } from '../../src/transport/unix/index.js';
import type { Cancellation, ExecutionContext, Plugin } from '../../src/types.js';
import { callContext } from '../support/context.js';
import { tempDir } from '../support/tmp.js';

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
const HANG_GUARD = { timeout: 15_000 };
const RAW_EXEC = fileURLToPath(new URL('../fixtures/raw-exec-plugin.mjs', import.meta.url));

/** A Cancellation that is not an AbortSignal, fired by hand, that counts its listeners. */
class ManualCancellation implements Cancellation {
  aborted = false;
  reason: unknown = undefined;
  readonly listeners = new Set<() => void>();

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.delete(listener);
  }

  fire(reason: unknown): void {
    this.aborted = true;
    this.reason = reason;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }
}

/** A call context whose `signal` must not be read: reading it throws. */
function context(cancellation: Cancellation): ExecutionContext {
  const ctx = { ...callContext(), cancellation };
  return Object.defineProperty(ctx, 'signal', {
    get(): never {
      throw new Error('the transport read ctx.signal');
    },
  });
}

const tmp = tempDir('plugwire-cancel-');
const open: Array<{ close(): Promise<void> }> = [];
const served: ServedPlugin[] = [];
after(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
  await Promise.all(served.splice(0).map((server) => server.close({ timeoutMs: 0 })));
  tmp.remove();
});

/** The SDK handler of the HTTP, gRPC and Unix servers: `hang` waits until the call is dropped. */
function handler(req: { op: string; value?: unknown }, ctx: { signal: AbortSignal }) {
  if (req.op !== 'hang') return Promise.resolve(req.value);
  return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('late')));
}

interface Case {
  name: string;
  plugin(): Promise<Plugin>;
  /** A request answered at once with `'ok'`. */
  quick: unknown;
  /** A request never answered while the call lasts. */
  hanging: unknown;
}

const deps = { codec: jsonCodec, logger: silentLogger };
const sdkRequests = { quick: { op: 'echo', value: 'ok' }, hanging: { op: 'hang' } };

async function started(plugin: Plugin): Promise<Plugin> {
  open.push(plugin);
  await plugin.start?.(AbortSignal.timeout(10_000));
  return plugin;
}

const cases: Case[] = [
  {
    name: 'http',
    ...sdkRequests,
    async plugin() {
      const server = await serveHttp(handler);
      served.push(server);
      const config = pluginConfig({ name: 'http', transport: 'http', endpoint: server.endpoint });
      return started(httpFactory.create(config, deps));
    },
  },
  {
    name: 'grpc',
    ...sdkRequests,
    async plugin() {
      const server = await serveGrpc(handler);
      served.push(server);
      const config = pluginConfig({ name: 'grpc', transport: 'grpc', endpoint: server.endpoint });
      return started(grpcFactory.create(config, deps));
    },
  },
  {
    name: 'unix',
    ...sdkRequests,
    async plugin() {
      const path = join(tmp.dir, 'cancel.sock');
      served.push(await serveUnix(handler, { path }));
      const config = pluginConfig({ name: 'unix', transport: 'unix', socketPath: path });
      return started(unixFactory.create(config, deps));
    },
  },
  {
    name: 'exec',
    quick: { op: 'echo', value: 'ok' },
    hanging: { op: 'echo', value: 'late', sleep: 5_000 },
    async plugin() {
      const config = pluginConfig({
        name: 'exec',
        transport: 'exec',
        executable: process.execPath,
        args: [RAW_EXEC],
      });
      return started(new ExecPlugin(config, deps, { stdinGraceMs: 200, termGraceMs: 500 }));
    },
  },
];

for (const c of cases) {
  describe(`the ${c.name} transport with ctx.cancellation`, () => {
    const plugin = c.plugin();

    test('a call completes without reading ctx.signal, and stops listening once settled', async () => {
      const cancellation = new ManualCancellation();
      assert.equal(await (await plugin).execute(c.quick, context(cancellation)), 'ok');
      assert.equal(cancellation.listeners.size, 0);
    });

    test('firing the cancellation rejects the call with PLUGIN_1206', HANG_GUARD, async () => {
      const cancellation = new ManualCancellation();
      const call = (await plugin).execute(c.hanging, context(cancellation));
      await new Promise((resolve) => setTimeout(resolve, 50)); // let the request leave
      cancellation.fire(new Error('the caller gave up'));
      const error = await call.then(
        () => assert.fail('expected the call to reject'),
        (thrown: unknown) => thrown,
      );
      assert.ok(isPluginError(error), `expected a PluginError, got ${String(error)}`);
      assert.equal(error.code, ErrorCode.CallAborted);
      assert.equal(error.retryable, false);
    });

    test('a cancellation fired before the call rejects it without sending it', async () => {
      const cancellation = new ManualCancellation();
      cancellation.fire(new Error('already gone'));
      const error = await (await plugin).execute(c.quick, context(cancellation)).then(
        () => assert.fail('expected the call to reject'),
        (thrown: unknown) => thrown,
      );
      assert.ok(isPluginError(error));
      assert.equal(error.code, ErrorCode.CallAborted);
    });
  });
}

describe('serveUnix with a host that gives up', () => {
  test(
    "a call aborted in flight aborts the SDK handler's signal (the host sends cancel)",
    HANG_GUARD,
    async () => {
      const aborted = new Map<string, string>();
      let arrived!: () => void;
      const arrival = new Promise<void>((resolve) => (arrived = resolve));
      const path = join(tmp.dir, 'cancel-sdk.sock');
      served.push(
        await serveUnix(
          (_req: unknown, ctx) =>
            new Promise((resolve) => {
              ctx.signal.addEventListener('abort', () => {
                aborted.set(ctx.requestId, (ctx.signal.reason as Error).message);
                resolve('late');
              });
              arrived();
            }),
          { path },
        ),
      );
      const config = pluginConfig({ name: 'unix-sdk', transport: 'unix', socketPath: path });
      const plugin = await started(unixFactory.create(config, deps));
      const cancellation = new ManualCancellation();
      const ctx = context(cancellation);
      const call = plugin.execute({}, ctx);
      await arrival;
      cancellation.fire(new Error('the caller gave up'));
      await call.catch(() => undefined);
      while (!aborted.has(ctx.requestId)) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual([...aborted], [[ctx.requestId, 'the host cancelled the request']]);
    },
  );
});
