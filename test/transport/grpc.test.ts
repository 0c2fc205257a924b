import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_POLICY } from '../../src/config/defaults.js';
import { ErrorCode, applicationError } from '../../src/errors.js';
import type { HandlerContext } from '../../src/sdk/types.js';
import { tempDir } from '../support/tmp.js';
import {
  HANG_GUARD,
  aborted,
  bytesCodec,
  closeAll,
  ctx,
  failure,
  grpcPlugin,
  open,
  plainServer,
  serve,
} from './grpc-support.js';

after(closeAll);

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('execute through serveGrpc', () => {
  test('a request round-trips with its request id, headers and metadata', HANG_GUARD, async () => {
    const served = await serve((req: { n: number }, c: HandlerContext) => ({
      double: req.n * 2,
      requestId: c.requestId,
      trace: c.headers.traceparent,
      tenant: c.metadata.tenant,
      // go-plugins cancelled the call's context before using it: here the signal is live.
      aborted: c.signal.aborted,
    }));
    const plugin = grpcPlugin(served.endpoint);
    await plugin.start?.(AbortSignal.timeout(5_000));
    const reply = await plugin.execute(
      { n: 21 },
      ctx({
        requestId: 'req-42',
        headers: { traceparent: '00-t-s-01' },
        metadata: { tenant: 'acme' },
      }),
    );
    assert.deepEqual(reply, {
      double: 42,
      requestId: 'req-42',
      trace: '00-t-s-01',
      tenant: 'acme',
      aborted: false,
    });
  });

  test('a plugin that was never started calls its new, idle channel', HANG_GUARD, async () => {
    const served = await serve((req: string) => req.toUpperCase());
    const plugin = grpcPlugin(served.endpoint);
    assert.equal(await plugin.execute('idle is fine', ctx()), 'IDLE IS FINE');
  });

  for (const [label, size] of [
    ['1 byte', 1],
    ['64 KiB + 1', 64 * 1024 + 1],
    ['10 MiB', 10 * 1024 * 1024],
  ] as const) {
    test(`a ${label} payload arrives intact both ways`, HANG_GUARD, async () => {
      const served = await serve((req: Buffer) => Buffer.from(req).reverse(), {
        codec: bytesCodec,
      });
      const plugin = grpcPlugin(
        served.endpoint,
        { connection: { ...DEFAULT_POLICY.connection, maxResponseBytes: 16 * 1024 * 1024 } },
        bytesCodec,
      );
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
      const reply = (await plugin.execute(payload, ctx())) as Buffer;
      assert.equal(reply.length, size);
      assert.ok(reply.equals(Buffer.from(payload).reverse()));
    });
  }

  test(
    'a reply over maxResponseBytes is PLUGIN_1210 and the next call works',
    HANG_GUARD,
    async () => {
      const served = await serve((size: number) => 'x'.repeat(size));
      const plugin = grpcPlugin(served.endpoint, {
        connection: { ...DEFAULT_POLICY.connection, maxResponseBytes: 4096 },
      });
      const error = await failure(plugin.execute(10_000, ctx()));
      assert.equal(error.code, ErrorCode.ResponseTooLarge);
      assert.equal(error.retryable, false);
      assert.match(error.message, /maxResponseBytes \(4096 bytes\)/);
      assert.equal(await plugin.execute(10, ctx()), 'x'.repeat(10));
    },
  );

  test(
    'the plugin\'s own "no" is PLUGIN_1208 with its message, not retryable',
    HANG_GUARD,
    async () => {
      const served = await serve(() => {
        throw applicationError('insufficient funds');
      });
      const error = await failure(grpcPlugin(served.endpoint).execute({}, ctx()));
      assert.equal(error.code, ErrorCode.ApplicationError);
      assert.equal(error.message, 'insufficient funds');
      assert.equal(error.retryable, false);
      assert.equal(error.plugin, 'under-test');
    },
  );

  test('a transient handler failure is retryable, any other is not', HANG_GUARD, async () => {
    const served = await serve((req: { transient: boolean }) => {
      throw Object.assign(new Error(req.transient ? 'db restarting' : 'bug'), {
        retryable: req.transient,
      });
    });
    const plugin = grpcPlugin(served.endpoint);
    const transient = await failure(plugin.execute({ transient: true }, ctx()));
    assert.equal(transient.code, ErrorCode.GRPCTransportError);
    assert.equal(transient.retryable, true);
    assert.match(transient.message, /UNAVAILABLE: db restarting/);
    const bug = await failure(plugin.execute({ transient: false }, ctx()));
    assert.equal(bug.retryable, false);
    assert.match(bug.message, /INTERNAL: bug/);
  });

  test(
    'a request the server cannot decode is INVALID_ARGUMENT, not retryable',
    HANG_GUARD,
    async () => {
      const served = await serve((req: unknown) => req); // JSON on the server side
      const plugin = grpcPlugin(served.endpoint, {}, bytesCodec);
      const error = await failure(plugin.execute(Buffer.from('{not json'), ctx()));
      assert.equal(error.retryable, false);
      assert.match(error.message, /INVALID_ARGUMENT/);
    },
  );
});

test('a request larger than the server accepts fails without retry', HANG_GUARD, async () => {
  const served = await serve((req: Buffer) => req, {
    codec: bytesCodec,
    maxRequestBytes: 1024,
  });
  const plugin = grpcPlugin(served.endpoint, {}, bytesCodec);
  const error = await failure(plugin.execute(Buffer.alloc(4096), ctx()));
  assert.equal(error.code, ErrorCode.GRPCTransportError);
  assert.equal(error.retryable, false);
  assert.match(error.message, /larger than the plugin server accepts/);
});

describe('deadlines and cancellation', () => {
  test(
    'the handler sees the host deadline and its signal aborts when it passes',
    HANG_GUARD,
    async () => {
      let seen: HandlerContext | undefined;
      let handlerAborted: Promise<unknown> | undefined;
      const served = await serve(async (_req: unknown, c: HandlerContext) => {
        seen = c;
        handlerAborted = aborted(c.signal);
        await handlerAborted;
        return 'too late';
      });
      const plugin = grpcPlugin(served.endpoint);
      await plugin.start?.(AbortSignal.timeout(5_000));
      const deadline = Date.now() + 400;
      const error = await failure(plugin.execute({}, ctx({ deadline })));
      assert.equal(error.code, ErrorCode.PluginTimeout);
      await handlerAborted;
      assert.ok(seen?.signal.aborted);
      // The deadline travels as a relative grpc-timeout: allow for clock reading on both sides.
      assert.ok(Math.abs((seen?.deadline ?? 0) - deadline) < 1_000, 'deadline propagated');
    },
  );

  test("aborting the caller's signal cancels the call on the server", HANG_GUARD, async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let serverSide: Promise<unknown> | undefined;
    const served = await serve(async (_req: unknown, c: HandlerContext) => {
      serverSide = aborted(c.signal);
      started();
      await serverSide;
      return 'cancelled';
    });
    const plugin = grpcPlugin(served.endpoint);
    const controller = new AbortController();
    const call = plugin.execute({}, ctx({ signal: controller.signal }));
    await running;
    controller.abort(new Error('caller gave up'));
    const error = await failure(call);
    assert.equal(error.code, ErrorCode.CallAborted);
    assert.equal(error.retryable, false);
    await serverSide; // the handler's signal aborted too
  });

  test('a call whose signal is already aborted never reaches the server', HANG_GUARD, async () => {
    let calls = 0;
    const served = await serve(() => ++calls);
    const plugin = grpcPlugin(served.endpoint);
    const controller = new AbortController();
    controller.abort();
    const error = await failure(plugin.execute({}, ctx({ signal: controller.signal })));
    assert.equal(error.code, ErrorCode.CallAborted);
    assert.equal(await plugin.execute({}, ctx()), 1);
  });
});

describe('connection failures', () => {
  test('start fails with a retryable PLUGIN_1205 when nothing listens', HANG_GUARD, async () => {
    const plugin = grpcPlugin(`127.0.0.1:${await freePort()}`);
    const error = await failure(plugin.start!(AbortSignal.timeout(10_000)));
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, true);
    assert.match(error.message, /ECONNREFUSED/);
  });

  test(
    'execute fails fast with PLUGIN_1205 rather than waiting for its deadline',
    HANG_GUARD,
    async () => {
      const plugin = grpcPlugin(`127.0.0.1:${await freePort()}`);
      const error = await failure(plugin.execute({}, ctx({ deadline: Date.now() + 60_000 })));
      assert.equal(error.code, ErrorCode.PluginConnectionFailed);
      assert.equal(error.retryable, true);
    },
  );

  test('start accepts a server without the health service: it answered', HANG_GUARD, async () => {
    const { endpoint } = await plainServer({ plugin: { Execute: () => {}, Info: () => {} } });
    await grpcPlugin(endpoint).start?.(AbortSignal.timeout(5_000));
  });
});

describe('health and info through serveGrpc', () => {
  test(
    'health is healthy while the health function says so, unhealthy otherwise',
    HANG_GUARD,
    async () => {
      let healthy = true;
      const served = await serve(() => null, { health: () => healthy });
      const plugin = grpcPlugin(served.endpoint);
      assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
      healthy = false;
      const status = await plugin.health(AbortSignal.timeout(5_000));
      assert.equal(status.status, 'unhealthy');
      assert.match(status.message ?? '', /NOT_SERVING/);
    },
  );

  test(
    'health can ask about the plugin by name; an unknown name is unhealthy with why',
    HANG_GUARD,
    async () => {
      const served = await serve(() => null, { info: { name: 'payments' } });
      const named = grpcPlugin(served.endpoint, { options: { healthService: 'payments' } });
      assert.equal((await named.health(AbortSignal.timeout(5_000))).status, 'healthy');
      const other = grpcPlugin(served.endpoint, { options: { healthService: 'billing' } });
      const status = await other.health(AbortSignal.timeout(5_000));
      assert.equal(status.status, 'unhealthy');
      assert.match(status.message ?? '', /does not know health service "billing"/);
    },
  );

  test(
    'health of an unreachable server is unhealthy with the connection error',
    HANG_GUARD,
    async () => {
      const status = await grpcPlugin(`127.0.0.1:${await freePort()}`).health(
        AbortSignal.timeout(5_000),
      );
      assert.equal(status.status, 'unhealthy');
      assert.match(status.message ?? '', /ECONNREFUSED/);
    },
  );

  test('info returns what the SDK server was given', HANG_GUARD, async () => {
    const info = { name: 'payments', version: '2.0.0', capabilities: ['charge'] };
    const served = await serve(() => null, { info });
    assert.deepEqual(await grpcPlugin(served.endpoint).info(), info);
  });
});

describe('endpoints, metadata and lifecycle', () => {
  test('a unix socket endpoint works', HANG_GUARD, async () => {
    const dir = tempDir('plugwire-grpc-');
    open.push({ close: async () => dir.remove() });
    const served = await serve((req: number) => req + 1, { socketPath: join(dir.dir, 'p.sock') });
    assert.equal(served.endpoint, `unix:${join(dir.dir, 'p.sock')}`);
    assert.equal(await grpcPlugin(served.endpoint).execute(1, ctx()), 2);
    // The socketPath field is accepted as well.
    const bySocketPath = grpcPlugin('', {
      endpoint: undefined,
      socketPath: join(dir.dir, 'p.sock'),
    });
    assert.equal(await bySocketPath.execute(2, ctx()), 3);
  });

  test(
    'credentials, request id and trace headers travel as call metadata',
    HANG_GUARD,
    async () => {
      const served = await serve((_req: unknown, c: HandlerContext) => ({
        authorization: c.headers.authorization,
        requestId: c.headers['x-request-id'],
        traceparent: c.headers.traceparent,
      }));
      const plugin = grpcPlugin(served.endpoint, {
        auth: { method: 'bearer', token: 's3cr3t-token' },
      });
      const reply = await plugin.execute(
        {},
        ctx({ requestId: 'r-7', headers: { Traceparent: '00-a-b-01' } }),
      );
      assert.deepEqual(reply, {
        authorization: 'Bearer s3cr3t-token',
        requestId: 'r-7',
        traceparent: '00-a-b-01',
      });
    },
  );

  test('close is idempotent and later calls fail with PLUGIN_1215', HANG_GUARD, async () => {
    const served = await serve(() => 'ok');
    const plugin = grpcPlugin(served.endpoint);
    assert.equal(await plugin.execute({}, ctx()), 'ok');
    await plugin.close();
    await plugin.close();
    const error = await failure(plugin.execute({}, ctx()));
    assert.equal(error.code, ErrorCode.PluginClosed);
  });

  test(
    'closing the server aborts handlers still running after the grace period',
    HANG_GUARD,
    async () => {
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      let serverSide: Promise<unknown> | undefined;
      const served = await serve(async (_req: unknown, c: HandlerContext) => {
        serverSide = aborted(c.signal);
        started();
        await serverSide;
        return 'never sent';
      });
      const outcome = failure(grpcPlugin(served.endpoint).execute({}, ctx()));
      await running;
      await served.close({ timeoutMs: 50 });
      await serverSide;
      const error = await outcome;
      assert.equal(error.retryable, true);
    },
  );
});
