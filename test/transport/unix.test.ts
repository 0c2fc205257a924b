// The Unix socket transport against the plugwire SDK's serveUnix, over real sockets in a temp dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { ErrorCode, applicationError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { serveUnix } from '../../src/sdk/unix.js';
import type { ServedPlugin } from '../../src/sdk/types.js';
import { unixFactory } from '../../src/transport/unix/index.js';
import type { UnixPlugin } from '../../src/transport/unix/index.js';
import type { PluginConfig } from '../../src/config/types.js';
import type { Codec } from '../../src/types.js';
import { tempDir } from '../support/tmp.js';
import { callContext } from '../fixtures/callContext.js';

interface Req {
  op: 'echo' | 'size' | 'fail' | 'busy' | 'slow';
  value?: unknown;
  bytes?: number;
  ms?: number;
}

const tmp = tempDir('plugwire-unix-');
after(() => tmp.remove());

function handler(req: Req, ctx: { signal: AbortSignal; requestId: string }): Promise<unknown> {
  switch (req.op) {
    case 'echo':
      return Promise.resolve({ value: req.value, requestId: ctx.requestId });
    case 'size':
      return Promise.resolve('x'.repeat(req.bytes ?? 0));
    case 'fail':
      return Promise.reject(applicationError('insufficient funds'));
    case 'busy':
      return Promise.reject(Object.assign(new Error('overloaded'), { retryable: true }));
    case 'slow':
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(req.value), req.ms ?? 0);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
  }
}

function plugin(path: string, overrides: Partial<PluginConfig> = {}): UnixPlugin<Req, unknown> {
  const config = pluginConfig({
    name: 'sock',
    transport: 'unix',
    endpoint: `unix://${path}`,
    ...overrides,
  });
  return unixFactory.create(config, { codec: jsonCodec, logger: silentLogger }) as UnixPlugin<
    Req,
    unknown
  >;
}

describe('unix transport with the SDK server', () => {
  const path = join(tmp.dir, 'sdk.sock');
  let served: ServedPlugin;
  let client: UnixPlugin<Req, unknown>;

  before(async () => {
    served = await serveUnix(handler, {
      path,
      info: { name: 'sdk-sock', version: '3.1.4' },
      health: () => ({
        status: 'degraded',
        message: 'warming up',
        lastCheck: 0,
        responseTimeMs: 0,
      }),
    });
    const base = pluginConfig({ name: 'x', transport: 'unix' }).connection;
    client = plugin(served.endpoint, {
      connection: { ...base, maxConnections: 1, maxResponseBytes: 16 * 1024 * 1024 },
    });
  });
  after(async () => {
    await client.close();
    await served.close();
  });

  test('an execute round-trips the request and carries the request id', async () => {
    const ctx = callContext();
    const reply = await client.execute({ op: 'echo', value: { a: [1, 'é'] } }, ctx);
    assert.deepEqual(reply, { value: { a: [1, 'é'] }, requestId: ctx.requestId });
  });

  test('payloads of 1 byte, 64 KiB + 1 and 10 MiB travel both ways', async () => {
    for (const bytes of [1, 64 * 1024 + 1, 10 * 1024 * 1024]) {
      const value = 'v'.repeat(bytes);
      const echoed = (await client.execute({ op: 'echo', value }, callContext())) as {
        value: string;
      };
      assert.equal(echoed.value.length, bytes);
      const sized = (await client.execute({ op: 'size', bytes }, callContext())) as string;
      assert.equal(sized.length, bytes);
    }
  });

  test('100 concurrent calls on one connection complete, each with its own reply', async () => {
    const calls = Array.from({ length: 100 }, (_, i) =>
      client.execute({ op: 'slow', value: i, ms: (i * 7) % 20 }, callContext()),
    );
    assert.deepEqual(
      await Promise.all(calls),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('the plugin own error is PLUGIN_1208; a retryable failure is PLUGIN_1203', async () => {
    await assert.rejects(client.execute({ op: 'fail' }, callContext()), {
      code: ErrorCode.ApplicationError,
      message: 'insufficient funds',
      retryable: false,
      plugin: 'sock',
    });
    await assert.rejects(client.execute({ op: 'busy' }, callContext()), {
      code: ErrorCode.PluginExecutionFailed,
      retryable: true,
    });
  });

  test('health and info come from the plugin', async () => {
    const health = await client.health(AbortSignal.timeout(5_000));
    assert.equal(health.status, 'degraded');
    assert.equal(health.message, 'warming up');
    assert.deepEqual(await client.info(), { name: 'sdk-sock', version: '3.1.4' });
  });

  test('an aborted call rejects at once, and the connection goes on serving others', async () => {
    const controller = new AbortController();
    const slow = client.execute(
      { op: 'slow', value: 'late', ms: 300 },
      callContext({ signal: controller.signal }),
    );
    controller.abort();
    await assert.rejects(slow, { code: ErrorCode.CallAborted });
    assert.deepEqual(
      await client.execute({ op: 'slow', value: 'next', ms: 400 }, callContext()),
      'next',
    );
  });

  test('a call whose deadline has passed is not sent', async () => {
    await assert.rejects(
      client.execute({ op: 'echo', value: 1 }, callContext({ deadline: Date.now() - 1 })),
      { code: ErrorCode.PluginTimeout },
    );
  });
});

test('a reply larger than maxResponseBytes fails that call with PLUGIN_1210 and the next call works', async () => {
  const path = join(tmp.dir, 'limit.sock');
  const served = await serveUnix(handler, { path });
  const base = pluginConfig({ name: 'x', transport: 'unix' }).connection;
  const client = plugin(path, {
    connection: { ...base, maxConnections: 1, maxResponseBytes: 1024 },
  });
  try {
    await assert.rejects(client.execute({ op: 'size', bytes: 100_000 }, callContext()), {
      code: ErrorCode.ResponseTooLarge,
      retryable: false,
    });
    assert.deepEqual(await client.execute({ op: 'slow', value: 'fine' }, callContext()), 'fine');
  } finally {
    await client.close();
    await served.close();
  }
});

test('a missing socket is a retryable connection failure, and health reports offline', async () => {
  const client = plugin(join(tmp.dir, 'nobody-home.sock'));
  try {
    await assert.rejects(client.execute({ op: 'echo' }, callContext()), (error: unknown) => {
      const e = error as { code: string; retryable: boolean; message: string };
      assert.equal(e.code, ErrorCode.PluginConnectionFailed);
      assert.equal(e.retryable, true);
      assert.match(e.message, /ENOENT/);
      return true;
    });
    assert.equal((await client.health(AbortSignal.timeout(5_000))).status, 'offline');
    await assert.rejects(client.start(AbortSignal.timeout(5_000)), {
      code: ErrorCode.PluginConnectionFailed,
    });
  } finally {
    await client.close();
  }
});

test('a plugin that comes back after a restart is reached again through a new connection', async () => {
  const path = join(tmp.dir, 'restart.sock');
  let served = await serveUnix(handler, { path });
  const client = plugin(path);
  try {
    const inFlight = assert.rejects(
      client.execute({ op: 'slow', value: 1, ms: 5_000 }, callContext()),
      { code: ErrorCode.PluginConnectionFailed, retryable: true },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await served.close({ timeoutMs: 0 });
    await inFlight;
    served = await serveUnix(handler, { path });
    assert.deepEqual(await client.execute({ op: 'slow', value: 2 }, callContext()), 2);
  } finally {
    await client.close();
    await served.close();
  }
});

test('the pool opens connections only while all are busy, up to maxConnections', async () => {
  const path = join(tmp.dir, 'pool.sock');
  let accepted = 0;
  // A raw server that counts connections and answers every request after a short wait.
  const server = createServer((socket) => {
    accepted++;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const request = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        setTimeout(() => {
          socket.write(
            `${JSON.stringify({ request_id: request.request_id, success: true, data: request.data })}\n`,
          );
        }, 30);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const base = pluginConfig({ name: 'x', transport: 'unix' }).connection;
  const client = plugin(path, { connection: { ...base, maxConnections: 3 } });
  try {
    for (let i = 0; i < 5; i++) await client.execute({ op: 'echo', value: i }, callContext());
    assert.equal(accepted, 1, 'sequential calls share one connection');
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.execute({ op: 'echo', value: i }, callContext())),
    );
    assert.equal(results.length, 30);
    assert.equal(accepted, 3, 'concurrent calls spread over at most maxConnections');
  } finally {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('close() destroys the sockets and a closed plugin refuses calls', async () => {
  const path = join(tmp.dir, 'close.sock');
  const served = await serveUnix(handler, { path });
  const client = plugin(path);
  await client.execute({ op: 'echo' }, callContext());
  await client.close();
  await client.close();
  // As on the HTTP and gRPC transports: PLUGIN_1215, retryable elsewhere, never sent.
  await assert.rejects(client.execute({ op: 'echo' }, callContext()), {
    code: ErrorCode.PluginClosed,
    retryable: true,
    phase: 'not-sent',
  });
  assert.equal((await client.health(AbortSignal.timeout(1_000))).status, 'offline');
  await served.close();
  assert.equal(existsSync(path), false, 'the socket file is removed');
});

test('close() fails the calls in flight with PLUGIN_1215, phase sent: they may have run', async () => {
  const path = join(tmp.dir, 'close-in-flight.sock');
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const served = await serveUnix(
    (_request, ctx) =>
      new Promise((resolve) => {
        arrived();
        ctx.signal.addEventListener('abort', () => resolve('late'));
      }),
    { path },
  );
  const client = plugin(path);
  const call = client.execute({ op: 'slow' }, callContext());
  await reached;
  await client.close();
  await assert.rejects(call, { code: ErrorCode.PluginClosed, retryable: true, phase: 'sent' });
  await served.close();
});

test('serveUnix replaces a stale socket file but refuses to steal a live one', async () => {
  const path = join(tmp.dir, 'stale.sock');
  const first = await serveUnix(handler, { path });
  await assert.rejects(serveUnix(handler, { path }), { code: 'EADDRINUSE' });
  await first.close();
  // A server killed with SIGKILL leaves its socket file behind.
  const crashed = spawnSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  assert.equal(crashed.signal, 'SIGKILL');
  assert.equal(existsSync(path), true, 'the stale socket file is there');
  const second = await serveUnix(handler, { path });
  const client = plugin(path);
  try {
    assert.deepEqual(await client.execute({ op: 'slow', value: 'ok' }, callContext()), 'ok');
  } finally {
    await client.close();
    await second.close();
  }
});

test('serveUnix close() lets in-flight calls finish and refuses new ones retryably', async () => {
  const path = join(tmp.dir, 'graceful.sock');
  const served = await serveUnix(handler, { path });
  const base = pluginConfig({ name: 'x', transport: 'unix' }).connection;
  // One connection, so that the second call goes down the one already open.
  const client = plugin(path, { connection: { ...base, maxConnections: 1 } });
  try {
    const inFlight = client.execute({ op: 'slow', value: 'finished', ms: 200 }, callContext());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = served.close({ timeoutMs: 5_000 });
    await assert.rejects(client.execute({ op: 'echo' }, callContext()), {
      code: ErrorCode.PluginExecutionFailed,
      retryable: true,
      message: /shutting down/,
    });
    assert.equal(await inFlight, 'finished');
    await closing;
    assert.equal(existsSync(path), false);
  } finally {
    await client.close();
  }
});

test('with a non-JSON codec, data travels as base64 of the encoded bytes', async () => {
  const path = join(tmp.dir, 'codec.sock');
  const textCodec: Codec = {
    name: 'text',
    contentType: 'text/plain',
    encode: (value) => Buffer.from(String(value)),
    decode: (bytes) => Buffer.from(bytes).toString('utf8'),
  };
  const served = await serveUnix((req: unknown) => `${String(req)}!`, { path, codec: textCodec });
  const config = pluginConfig({ name: 'sock', transport: 'unix', socketPath: path });
  const client = unixFactory.create(config, { codec: textCodec, logger: silentLogger });
  try {
    assert.equal(await client.execute('hello', callContext()), 'hello!');
  } finally {
    await client.close();
    await served.close();
  }
});
