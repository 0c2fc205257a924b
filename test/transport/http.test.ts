import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import type { PluginConfig } from '../../src/config/types.js';
import { ErrorCode, applicationError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { serveHttp, type ServeHttpOptions } from '../../src/sdk/http.js';
import type { Handler, ServedPlugin } from '../../src/sdk/types.js';
import { httpFactory } from '../../src/transport/http/index.js';
import type { Plugin } from '../../src/types.js';
import { parseDuration } from '../../src/config/duration.js';

// ---------- helpers ----------

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
const HANG_GUARD = { timeout: 15_000 };
import { callContext as ctx } from '../support/context.js';
import { rejection } from '../support/assertions.js';

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

async function plugin(
  endpoint: string,
  extra: Partial<PluginConfig> = {},
): Promise<Plugin<unknown, unknown>> {
  const config = pluginConfig({ name: 'under-test', transport: 'http', endpoint, ...extra });
  assert.deepEqual(httpFactory.validate?.(config), []);
  const created = httpFactory.create(config, { codec: jsonCodec, logger: silentLogger });
  open.push(created);
  await created.start?.(new AbortController().signal);
  return created;
}

async function serve<Req, Resp>(
  handler: Handler<Req, Resp>,
  options?: ServeHttpOptions,
): Promise<ServedPlugin> {
  const served = await serveHttp(handler, options);
  open.push(served);
  return served;
}

interface RawServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** A hand-written node:http server: proves the wire format doc is enough to write a plugin. */
async function rawServer(
  onRequest: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
  port = 0,
): Promise<RawServer> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    onRequest(req, res, Buffer.concat(chunks));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const raw: RawServer = {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
  open.push(raw);
  return raw;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

// ---------- round trips ----------

describe('HTTP transport with the plugwire SDK', () => {
  test('a request goes to the handler and its response comes back', async () => {
    const served = await serve(async (req: { n: number }) => ({ double: req.n * 2 }));
    const p = await plugin(served.endpoint);
    assert.deepEqual(await p.execute({ n: 21 }, ctx()), { double: 42 });
  });

  test('the handler sees the request id, headers, metadata and a deadline', async () => {
    let seen: unknown;
    const served = await serve((_req, handlerCtx) => {
      seen = {
        requestId: handlerCtx.requestId,
        trace: handlerCtx.headers['traceparent'],
        tenant: handlerCtx.metadata['tenant'],
        hasDeadline: typeof handlerCtx.deadline === 'number',
      };
      return 'ok';
    });
    const p = await plugin(served.endpoint);
    const call = ctx({ headers: { traceparent: '00-abc-def-01' }, metadata: { tenant: 't1' } });
    await p.execute(null, call);
    assert.deepEqual(seen, {
      requestId: call.requestId,
      trace: '00-abc-def-01',
      tenant: 't1',
      hasDeadline: true,
    });
  });

  test("the handler's applicationError reaches the host as PLUGIN_1208, not retryable", async () => {
    const served = await serve(() => {
      throw applicationError('insufficient funds');
    });
    const p = await plugin(served.endpoint);
    const error = await rejection(p.execute({}, ctx()));
    assert.equal(error.code, ErrorCode.ApplicationError);
    assert.equal(error.retryable, false);
    assert.match(error.message, /insufficient funds/);
    assert.equal(error.plugin, 'under-test');
  });

  test('a handler crash is a 500 failure, retryable only when the error was transient', async () => {
    const served = await serve((req: { transient: boolean }) => {
      throw Object.assign(new Error('backend down'), { retryable: req.transient });
    });
    const p = await plugin(served.endpoint);
    const transient = await rejection(p.execute({ transient: true }, ctx()));
    assert.equal(transient.code, ErrorCode.HTTPTransportError);
    assert.equal(transient.retryable, true);
    assert.equal(transient.details?.['status'], 500);
    const permanent = await rejection(p.execute({ transient: false }, ctx()));
    assert.equal(permanent.retryable, false);
  });

  for (const [label, size] of [
    ['1 byte', 1],
    ['64 KiB + 1', 64 * 1024 + 1],
    ['10 MiB', 10 * 1024 * 1024],
  ] as const) {
    test(`a ${label} payload travels both ways intact`, async () => {
      const served = await serve((req: string) => req);
      const p = await plugin(served.endpoint, {
        connection: {
          ...pluginConfig({ name: 'x', transport: 'http' }).connection,
          maxResponseBytes: 32 * 1024 * 1024,
        },
      });
      const payload = 'x'.repeat(size);
      assert.equal(await p.execute(payload, ctx()), payload);
    });
  }

  test('health is healthy while the handler says so and unhealthy (503) when it does not', async () => {
    let healthy = true;
    const served = await serve(() => null, { health: () => healthy });
    const p = await plugin(served.endpoint);
    assert.equal((await p.health(AbortSignal.timeout(5_000))).status, 'healthy');
    healthy = false;
    const status = await p.health(AbortSignal.timeout(5_000));
    assert.equal(status.status, 'unhealthy');
  });

  test('a degraded plugin is reported degraded, with its message', async () => {
    const served = await serve(() => null, {
      health: () => ({
        status: 'degraded',
        message: 'cache cold',
        lastCheck: 0,
        responseTimeMs: 0,
      }),
    });
    const p = await plugin(served.endpoint);
    const status = await p.health(AbortSignal.timeout(5_000));
    assert.equal(status.status, 'degraded');
    assert.equal(status.message, 'cache cold');
  });

  test('info returns what the plugin serves', async () => {
    const served = await serve(() => null, { info: { name: 'doubler', version: '1.2.3' } });
    const p = await plugin(served.endpoint);
    assert.deepEqual(await p.info(), { name: 'doubler', version: '1.2.3' });
  });

  test('the SDK serves under a custom path, with health and info beneath it', async () => {
    const served = await serve(() => 'here', { path: '/api/v1', info: { name: 'nested' } });
    assert.match(served.endpoint, /\/api\/v1$/);
    const p = await plugin(served.endpoint);
    assert.equal(await p.execute(null, ctx()), 'here');
    assert.equal((await p.health(AbortSignal.timeout(5_000))).status, 'healthy');
    assert.equal((await p.info()).name, 'nested');
  });

  test("the handler sees each HTTP header as one string, under the envelope's own headers", async () => {
    let seen: Readonly<Record<string, string>> | undefined;
    const served = await serve((_req, handlerCtx) => {
      seen = handlerCtx.headers;
      return 'ok';
    });
    const url = new URL(served.endpoint);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'set-cookie': ['a=1', 'b=2'],
            'x-both': 'from http',
            'x-http-only': 'kept',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject);
      req.end(
        JSON.stringify({
          data: null,
          request_id: 'r1',
          headers: { 'x-both': 'from the envelope', 'x-not-text': 5, 'x-own': 'yes' },
        }),
      );
    });
    assert.equal(status, 200);
    assert.equal(seen?.['set-cookie'], 'a=1, b=2');
    assert.equal(seen?.['x-both'], 'from the envelope');
    assert.equal(seen?.['x-http-only'], 'kept');
    assert.equal(seen?.['x-own'], 'yes');
    assert.equal(seen?.['content-type'], 'application/json');
    assert.equal('x-not-text' in seen!, false);
    assert.ok(Object.values(seen!).every((value) => typeof value === 'string'));
  });

  test('a body over the limit without a content-length is refused with 413 as it streams', async () => {
    let ran = false;
    const served = await serve(
      () => {
        ran = true;
        return 'never';
      },
      { maxRequestBytes: 1024 },
    );
    const url = new URL(served.endpoint);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST' },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject);
      // Chunked: the size is known only once the bytes arrive.
      req.write(`{"data":"${'y'.repeat(600)}`);
      req.write('y'.repeat(600));
      req.end('"}');
    });
    assert.equal(status, 413);
    assert.equal(ran, false);
    // The server goes on serving.
    const p = await plugin(served.endpoint);
    assert.equal(await p.execute(null, ctx()), 'never');
  });

  test('the SDK answers 400 to a request body that is not JSON', async () => {
    const served = await serve(() => 'never');
    const res = await fetch(served.endpoint, { method: 'POST', body: '{nope' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /bad request/);
  });

  test('the SDK answers 413 to a request body over its limit', async () => {
    const served = await serve(() => 'never', { maxRequestBytes: 1024 });
    const p = await plugin(served.endpoint);
    const error = await rejection(p.execute('y'.repeat(4096), ctx()));
    assert.equal(error.code, ErrorCode.HTTPTransportError);
    assert.equal(error.details?.['status'], 413);
    assert.equal(error.retryable, false);
  });

  test("when the host aborts a call, the handler's signal aborts", HANG_GUARD, async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    let handlerAborted!: () => void;
    const aborted = new Promise<void>((resolve) => (handlerAborted = resolve));
    const served = await serve(async (_req, handlerCtx) => {
      handlerCtx.signal.addEventListener('abort', () => handlerAborted());
      arrived();
      await aborted;
      return 'unused';
    });
    const p = await plugin(served.endpoint);
    const controller = new AbortController();
    const call = p.execute(null, ctx({ signal: controller.signal }));
    await arrival;
    controller.abort(new Error('caller gave up'));
    assert.equal((await rejection(call)).code, ErrorCode.CallAborted);
    await aborted;
  });

  for (const [label, timeout, expected] of [
    ['a Go duration string', '1m30s', 90_000],
    ['a fractional Go duration', '2.5s', 2_500],
    ['a number of milliseconds', 300, 300],
  ] as const) {
    test(`the SDK takes ${label} in "timeout" as the handler's deadline`, async () => {
      let seen: { deadline: number | undefined; at: number } | undefined;
      const served = await serve((_req, handlerCtx) => {
        seen = { deadline: handlerCtx.deadline, at: Date.now() };
        return 'ok';
      });
      const sentAt = Date.now();
      const res = await fetch(served.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: null, request_id: 'r1', timeout }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { data: unknown }).data, 'ok');
      const left = seen!.deadline! - sentAt;
      assert.ok(left >= expected && left <= expected + 1_000, `deadline ${left} ms after sending`);
    });
  }

  for (const timeout of ['0s', '', 'soon', 0, -5]) {
    test(`the SDK reads timeout ${JSON.stringify(timeout)} as no deadline`, async () => {
      let deadline: number | undefined = 1;
      const served = await serve((_req, handlerCtx) => {
        deadline = handlerCtx.deadline;
        return 'ok';
      });
      const res = await fetch(served.endpoint, {
        method: 'POST',
        body: JSON.stringify({ data: null, request_id: 'r1', timeout }),
      });
      assert.equal(res.status, 200);
      assert.equal(deadline, undefined);
    });
  }

  test(
    "the SDK aborts the handler's signal when a Go duration timeout passes",
    HANG_GUARD,
    async () => {
      let reason: unknown;
      const served = await serve(
        (_req, handlerCtx) =>
          new Promise((resolve) => {
            handlerCtx.signal.addEventListener('abort', () => {
              reason = handlerCtx.signal.reason;
              resolve('stopped');
            });
          }),
      );
      const res = await fetch(served.endpoint, {
        method: 'POST',
        body: JSON.stringify({ data: null, request_id: 'r1', timeout: '50ms' }),
      });
      assert.equal(((await res.json()) as { data: unknown }).data, 'stopped');
      assert.match(String((reason as Error).message), /deadline exceeded/);
    },
  );

  test('the SDK answers 404 to an unknown path and 405 to a wrong method', async () => {
    const served = await serve(() => 'never');
    const missing = await fetch(`${served.endpoint}/elsewhere`, { method: 'POST', body: '{}' });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const wrong = await fetch(served.endpoint, { method: 'GET' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    await wrong.body?.cancel();
  });

  test('SDK close waits for an in-flight request to finish', async () => {
    let release!: () => void;
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const served = await serveHttp(async () => {
      arrived();
      await new Promise<void>((resolve) => (release = resolve));
      return 'finished';
    });
    const p = await plugin(served.endpoint);
    const call = p.execute(null, ctx());
    await arrival;
    const closing = served.close({ timeoutMs: 30_000 });
    release();
    assert.equal(await call, 'finished');
    await closing;
  });
});

// ---------- wire format against a hand-written server ----------

describe('HTTP transport against a hand-written server', () => {
  test('the request is a POST of the documented envelope with the documented headers', async () => {
    let seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: any } = {
      headers: {},
      body: undefined,
    };
    const raw = await rawServer((req, res, body) => {
      seen = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: JSON.parse(body.toString()),
      };
      reply(res, 200, {
        data: { ok: true },
        error: '',
        request_id: seen.body.request_id,
        metadata: {},
      });
    });
    const p = await plugin(`${raw.url}/plugins/echo`);
    const call = ctx({
      deadline: Date.now() + 10_000,
      headers: { traceparent: '00-t-s-01' },
      metadata: { tenant: 'acme' },
    });
    assert.deepEqual(await p.execute({ q: 1 }, call), { ok: true });
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/plugins/echo');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['x-request-id'], call.requestId);
    assert.equal(seen.headers['traceparent'], '00-t-s-01');
    assert.deepEqual(seen.body.data, { q: 1 });
    assert.equal(seen.body.request_id, call.requestId);
    assert.deepEqual(seen.body.headers, { traceparent: '00-t-s-01' });
    assert.deepEqual(seen.body.metadata, { tenant: 'acme' });
    // go-plugins' `Timeout string`: a Go duration, never more than the 10 s left.
    assert.equal(typeof seen.body.timeout, 'string');
    const sent = parseDuration(seen.body.timeout as string);
    assert.ok(sent > 9_000 && sent <= 10_000, `timeout ${seen.body.timeout}`);
  });

  test('a call with no whole millisecond left is PLUGIN_1204 and is not sent', async () => {
    let requests = 0;
    const raw = await rawServer((_req, res) => {
      requests++;
      reply(res, 200, { data: 1 });
    });
    const p = await plugin(raw.url);
    const error = await rejection(p.execute(null, ctx({ deadline: Date.now() - 5 })));
    assert.equal(error.code, ErrorCode.PluginTimeout);
    assert.equal(await p.execute(null, ctx()), 1); // the next call goes out
    assert.equal(requests, 1);
  });

  test('without a deadline the envelope says timeout "0s"', async () => {
    let timeout: unknown;
    const raw = await rawServer((_req, res, body) => {
      timeout = JSON.parse(body.toString()).timeout;
      reply(res, 200, { data: 1 });
    });
    const p = await plugin(raw.url);
    await p.execute(null, ctx({ deadline: Infinity }));
    assert.equal(timeout, '0s');
  });

  test('a reply without request_id is accepted', async () => {
    const raw = await rawServer((_req, res) => reply(res, 200, { data: 7 }));
    const p = await plugin(raw.url);
    assert.equal(await p.execute(null, ctx()), 7);
  });

  test('a 2xx reply with an error is an application error', async () => {
    const raw = await rawServer((_req, res) =>
      reply(res, 200, { data: null, error: 'no such user' }),
    );
    const p = await plugin(raw.url);
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.ApplicationError);
    assert.equal(error.retryable, false);
  });

  test('a 2xx reply with an error marked retryable is a retryable failure', async () => {
    const raw = await rawServer((_req, res) =>
      reply(res, 200, { error: 'warming up', retryable: true }),
    );
    const p = await plugin(raw.url);
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.PluginExecutionFailed);
    assert.equal(error.retryable, true);
  });

  for (const [status, retryable] of [
    [500, true],
    [503, true],
    [429, true],
    [400, false],
    [401, false],
    [404, false],
  ] as const) {
    test(`HTTP ${status} is a TRANSPORT_1301 failure, ${retryable ? '' : 'not '}retryable`, async () => {
      const raw = await rawServer((_req, res) => reply(res, status, { error: 'nope' }));
      const p = await plugin(raw.url);
      const error = await rejection(p.execute(null, ctx()));
      assert.equal(error.code, ErrorCode.HTTPTransportError);
      assert.equal(error.retryable, retryable);
      assert.equal(error.details?.['status'], status);
    });
  }

  test('an HTML 502 page is an invalid response, retryable', async () => {
    const raw = await rawServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    const p = await plugin(raw.url);
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.InvalidResponse);
    assert.equal(error.retryable, true);
    assert.equal(error.details?.['status'], 502);
  });

  test('a 200 reply that is not JSON is an invalid response, not retryable', async () => {
    const raw = await rawServer((_req, res) => reply(res, 200, '{"data": [1, 2'));
    const p = await plugin(raw.url);
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.InvalidResponse);
    assert.equal(error.retryable, false);
  });

  test('a reply for another request id is an invalid response', async () => {
    const raw = await rawServer((_req, res) => reply(res, 200, { data: 'x', request_id: 'other' }));
    const p = await plugin(raw.url);
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.InvalidResponse);
  });

  test(
    'a body cut short by the server is a retryable connection failure, not a hang',
    HANG_GUARD,
    async () => {
      const raw = await rawServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"data": "trunc');
        setImmediate(() => res.socket?.destroy());
      });
      const p = await plugin(raw.url);
      const error = await rejection(p.execute(null, ctx()));
      assert.equal(error.code, ErrorCode.PluginConnectionFailed);
      assert.equal(error.retryable, true);
    },
  );

  test('a reply announcing more than maxResponseBytes is refused, and the next call succeeds', async () => {
    let big = true;
    const raw = await rawServer((_req, res) => {
      if (big) reply(res, 200, { data: 'z'.repeat(200_000) });
      else reply(res, 200, { data: 'small' });
    });
    const p = await plugin(raw.url, {
      connection: {
        ...pluginConfig({ name: 'x', transport: 'http' }).connection,
        maxResponseBytes: 100_000,
      },
    });
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.ResponseTooLarge);
    assert.equal(error.retryable, false);
    assert.equal(typeof error.details?.['contentLength'], 'number', 'refused from the header');
    big = false;
    assert.equal(await p.execute(null, ctx()), 'small');
  });

  test(
    'a streamed reply growing past maxResponseBytes is cut off, and the next call succeeds',
    HANG_GUARD,
    async () => {
      let big = true;
      let streamClosed!: () => void;
      const closedEarly = new Promise<void>((resolve) => (streamClosed = resolve));
      const raw = await rawServer((_req, res) => {
        if (!big) return reply(res, 200, { data: 'small' });
        // No content-length: chunked, the client only learns the size while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.on('close', () => streamClosed());
        const chunk = 'z'.repeat(16 * 1024);
        res.write('{"data":"');
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
      const p = await plugin(raw.url, {
        connection: {
          ...pluginConfig({ name: 'x', transport: 'http' }).connection,
          maxResponseBytes: 100_000,
        },
      });
      const error = await rejection(p.execute(null, ctx()));
      assert.equal(error.code, ErrorCode.ResponseTooLarge);
      await closedEarly; // the endless body was abandoned, its socket closed
      big = false;
      assert.equal(await p.execute(null, ctx()), 'small');
    },
  );

  test(
    'an abort through the signal rejects at once and cancels the request on the server',
    HANG_GUARD,
    async () => {
      let arrived!: () => void;
      const arrival = new Promise<void>((resolve) => (arrived = resolve));
      let serverSawClose!: () => void;
      const sawClose = new Promise<void>((resolve) => (serverSawClose = resolve));
      const raw = await rawServer((_req, res) => {
        res.on('close', () => serverSawClose());
        arrived(); // and never answer
      });
      const p = await plugin(raw.url);
      const controller = new AbortController();
      const call = p.execute(null, ctx({ signal: controller.signal }));
      await arrival;
      controller.abort(new Error('caller gave up'));
      const error = await rejection(call);
      assert.equal(error.code, ErrorCode.CallAborted);
      assert.equal(error.retryable, false);
      await sawClose;
    },
  );

  test('an abort with a timeout reason is PLUGIN_1204', async () => {
    const raw = await rawServer(() => {});
    const p = await plugin(raw.url);
    const controller = new AbortController();
    const call = p.execute(null, ctx({ signal: controller.signal }));
    controller.abort(new DOMException('deadline passed', 'TimeoutError'));
    const error = await rejection(call);
    assert.equal(error.code, ErrorCode.PluginTimeout);
  });

  test(
    'a call waiting for a free connection still rejects at once when aborted',
    HANG_GUARD,
    async () => {
      const raw = await rawServer(() => {}); // never answers: the only connection stays busy
      const p = await plugin(raw.url, {
        connection: {
          ...pluginConfig({ name: 'x', transport: 'http' }).connection,
          maxConnections: 1,
        },
      });
      const first = new AbortController();
      const busy = p.execute(null, ctx({ signal: first.signal }));
      const second = new AbortController();
      const queued = p.execute(null, ctx({ signal: second.signal }));
      second.abort(new Error('gave up'));
      assert.equal((await rejection(queued)).code, ErrorCode.CallAborted);
      first.abort(new Error('done'));
      await rejection(busy);
    },
  );

  for (const [method, auth, header, expected] of [
    ['api-key', { method: 'api-key', apiKey: 'k-123456' }, 'x-api-key', 'k-123456'],
    ['bearer', { method: 'bearer', token: 'tok-abcdef' }, 'authorization', 'Bearer tok-abcdef'],
    [
      'basic',
      { method: 'basic', username: 'ann', password: 'pa:ss' },
      'authorization',
      `Basic ${Buffer.from('ann:pa:ss').toString('base64')}`,
    ],
    [
      'custom',
      { method: 'custom', headers: { 'X-Tenant-Key': 'tk-999999' } },
      'x-tenant-key',
      'tk-999999',
    ],
  ] as const) {
    test(`${method} auth arrives as the ${header} header`, async () => {
      let got: string | string[] | undefined;
      const raw = await rawServer((req, res) => {
        got = req.headers[header];
        reply(res, 200, { data: null });
      });
      const p = await plugin(raw.url, { auth: auth as PluginConfig['auth'] });
      await p.execute(null, ctx());
      assert.equal(got, expected);
    });
  }

  test('auth headers also go with health checks', async () => {
    let got: string | string[] | undefined;
    const raw = await rawServer((req, res) => {
      got = req.headers['authorization'];
      reply(res, 200, { status: 'healthy' });
    });
    const p = await plugin(raw.url, { auth: { method: 'bearer', token: 'tok-health' } });
    await p.health(AbortSignal.timeout(5_000));
    assert.equal(got, 'Bearer tok-health');
  });

  test('a failed call never shows the credentials', async () => {
    const raw = await rawServer((_req, res) =>
      reply(res, 401, { error: 'bad token tok-secret-1' }),
    );
    const p = await plugin(raw.url, { auth: { method: 'bearer', token: 'tok-secret-1' } });
    const error = await rejection(p.execute(null, ctx()));
    assert.doesNotMatch(JSON.stringify(error.toJSON()), /tok-secret-1/);
    assert.doesNotMatch(error.message, /tok-secret-1/);
  });

  test('health uses the configured path, resolved against the endpoint origin', async () => {
    let path: string | undefined;
    const raw = await rawServer((req, res) => {
      path = req.url;
      reply(res, 200, {});
    });
    const p = await plugin(`${raw.url}/api/v1`, {
      healthCheck: {
        enabled: true,
        interval: 1000,
        timeout: 1000,
        failureLimit: 3,
        endpoint: '/status',
      },
    });
    assert.equal((await p.health(AbortSignal.timeout(5_000))).status, 'healthy');
    assert.equal(path, '/status');
  });

  test('health defaults to <endpoint>/health and reports a non-2xx status as unhealthy', async () => {
    let path: string | undefined;
    const raw = await rawServer((req, res) => {
      path = req.url;
      res.writeHead(500);
      res.end();
    });
    const p = await plugin(`${raw.url}/api/v1`);
    const status = await p.health(AbortSignal.timeout(5_000));
    assert.equal(path, '/api/v1/health');
    assert.equal(status.status, 'unhealthy');
    assert.match(status.message ?? '', /500/);
  });

  test(
    'health of a server that does not answer ends with its signal, unhealthy',
    HANG_GUARD,
    async () => {
      const raw = await rawServer(() => {});
      const p = await plugin(raw.url);
      const controller = new AbortController();
      const check = p.health(controller.signal);
      controller.abort(new DOMException('health timeout', 'TimeoutError'));
      const status = await check;
      assert.equal(status.status, 'unhealthy');
    },
  );

  test('info falls back to the configured name when the plugin has no info route', async () => {
    const raw = await rawServer((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const p = await plugin(raw.url);
    assert.deepEqual(await p.info(), { name: 'under-test' });
  });
});

// ---------- a server that goes away ----------

describe('HTTP transport when the server goes away', () => {
  test(
    'in-flight calls reject retryably, and calls succeed again once it is back on its port',
    HANG_GUARD,
    async () => {
      let arrivedCount = 0;
      let allArrived!: () => void;
      const arrivals = new Promise<void>((resolve) => (allArrived = resolve));
      const hang = async (_req: unknown, handlerCtx: { signal: AbortSignal }): Promise<string> => {
        if (++arrivedCount === 4) allArrived();
        await new Promise((resolve) => handlerCtx.signal.addEventListener('abort', resolve));
        return 'too late';
      };
      const first = await serveHttp(hang);
      const port = Number(new URL(first.endpoint).port);
      const p = await plugin(first.endpoint);
      const calls = Array.from({ length: 4 }, () => p.execute(null, ctx()));
      await arrivals;
      await first.close({ timeoutMs: 0 });
      for (const error of await Promise.all(calls.map(rejection))) {
        assert.equal(error.code, ErrorCode.PluginConnectionFailed);
        assert.equal(error.retryable, true);
      }
      const refused = await rejection(p.execute(null, ctx()));
      assert.equal(refused.code, ErrorCode.PluginConnectionFailed);
      assert.equal(refused.retryable, true);

      await serve(() => 'back', { port });
      assert.equal(await p.execute(null, ctx()), 'back');
    },
  );

  test('health of a server that is down is unhealthy with the reason', async () => {
    const raw = await rawServer(() => {});
    await raw.close();
    const p = await plugin(raw.url);
    const status = await p.health(AbortSignal.timeout(5_000));
    assert.equal(status.status, 'unhealthy');
    assert.match(status.message ?? '', /ECONNREFUSED/);
  });
});

// ---------- lifecycle ----------

describe('HTTP plugin lifecycle', () => {
  test('close is idempotent, and a call after close fails fast, retryably', async () => {
    const served = await serve(() => 'x');
    const p = await plugin(served.endpoint);
    await p.execute(null, ctx());
    await Promise.all([p.close(), p.close()]);
    await p.close();
    const error = await rejection(p.execute(null, ctx()));
    assert.equal(error.code, ErrorCode.PluginClosed);
    assert.equal(error.retryable, true);
  });
});

describe('HTTP factory validation', () => {
  const check = (fields: Partial<PluginConfig> & { transport: string }) =>
    httpFactory.validate?.(pluginConfig({ name: 'v', ...fields })) ?? [];

  test('an endpoint is required', () => {
    assert.deepEqual(
      check({ transport: 'http' }).map((i) => i.path),
      ['endpoint'],
    );
  });

  test('the endpoint scheme must match the transport', () => {
    assert.match(
      check({ transport: 'https', endpoint: 'http://x:1' })[0]?.message ?? '',
      /https:\/\//,
    );
    assert.deepEqual(check({ transport: 'https', endpoint: 'https://x:1/a' }), []);
  });

  test('mTLS needs https', () => {
    const issues = check({
      transport: 'http',
      endpoint: 'http://x:1',
      auth: { method: 'mtls', certFile: 'c', keyFile: 'k' },
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['auth.method'],
    );
  });
});
