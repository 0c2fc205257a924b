// Retries decided by what happened (docs/resilience.md, "Retries"), against real servers and
// child processes: a request that may have run is replayed only when the call is idempotent; a
// request that never left the host fails over for free; the plugin's Retry-After is honoured;
// every attempt is numbered on the wire; hedges race and the loser is cancelled.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { Manager, isPluginError, type PluginError } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

const RAW = fileURLToPath(new URL('../fixtures/raw-exec-plugin.mjs', import.meta.url));
const tmp = tempDir('plugwire-safe-retries-');
const managers: Manager[] = [];
const servers: Server[] = [];
after(async () => {
  await Promise.all(managers.map((m) => m.shutdown()));
  await Promise.all(servers.map((s) => closeServer(s)));
  tmp.remove();
});

const FAST_RETRY = { maxRetries: 3, initialInterval: 10, maxInterval: 50, randomJitter: false };

function manager(): Manager<unknown, unknown> {
  const m = new Manager<unknown, unknown>();
  managers.push(m);
  return m;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A plain node:http plugin (knows only docs/protocol/http.md). */
async function httpPlugin(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/execute` };
}

function reply(res: ServerResponse, body: string, requestBody: string, status = 200): void {
  const { request_id } = JSON.parse(requestBody || '{}') as { request_id?: string };
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ data: body, request_id }));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function failure(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isPluginError(error), `not a PluginError: ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded');
}

// Health checks off: these tests are about calls, and a GET would be one more request counted.
const QUIET = { healthCheck: { enabled: false }, circuitBreaker: { enabled: false } };

describe('a request that may have run is not replayed unless idempotent', () => {
  test('a poison request to an exec plugin runs exactly once; the next call succeeds after the restart', async () => {
    const mark = join(tmp.dir, 'poison.log');
    writeFileSync(mark, '');
    const m = manager();
    await m.load({
      plugins: [
        {
          name: 'resizer',
          transport: 'exec',
          executable: process.execPath,
          args: [RAW],
          retry: FAST_RETRY,
          healthCheck: { enabled: false },
        },
      ],
    });
    const error = await failure(m.execute('resizer', { op: 'poison', mark }));
    assert.equal(error.phase, 'sent');
    assert.equal(error.attempts, 1);
    await sleep(300); // a retry, had there been one, would have crashed the child again by now
    assert.deepEqual(readFileSync(mark, 'utf8').trim().split('\n'), ['1']);
    // The child restarts on its own; the next call waits for it (not sent = free failover).
    const started = performance.now();
    assert.equal(await m.execute('resizer', { op: 'echo', value: 'ok' }), 'ok');
    assert.ok(performance.now() - started < 5_000);
    assert.equal(
      m.plugins().find((p) => p.name === 'resizer')?.breaker?.state ?? 'closed',
      'closed',
    );
  });

  test('ECONNRESET after the request was written: once when not idempotent, retried when idempotent', async () => {
    let requests = 0;
    const { url } = await httpPlugin((req) => {
      requests++;
      req.socket.destroy(); // the request arrived whole; the reply never comes
    });
    const m = manager();
    await m.load({
      plugins: [{ name: 'pay', transport: 'http', endpoint: url, retry: FAST_RETRY, ...QUIET }],
    });
    const once = await failure(m.execute('pay', { amount: 1 }));
    assert.equal(once.phase, 'sent');
    assert.equal(requests, 1);

    requests = 0;
    const again = await failure(m.execute('pay', { amount: 1 }, { idempotent: true }));
    assert.equal(again.phase, 'sent');
    assert.equal(requests, 1 + FAST_RETRY.maxRetries);
  });

  test('a 500 on a non-idempotent call is not retried; a 503 is (not processed)', async () => {
    let requests = 0;
    let status = 500;
    const { url } = await httpPlugin((_req, res, body) => {
      requests++;
      reply(res, 'no', body, requests === 1 ? status : 200);
    });
    const m = manager();
    await m.load({
      plugins: [{ name: 'pay', transport: 'http', endpoint: url, retry: FAST_RETRY, ...QUIET }],
    });
    const error = await failure(m.execute('pay', {}));
    assert.equal(error.phase, 'replied');
    assert.equal(error.details?.status, 500);
    assert.equal(requests, 1);

    requests = 0;
    status = 503;
    assert.equal(await m.execute('pay', {}), 'no');
    assert.equal(requests, 2);
  });
});

describe('the plugin says when to retry', () => {
  test('Retry-After: 1 on a 503 delays the retry by about a second, within the deadline', async () => {
    const arrivals: number[] = [];
    const { url } = await httpPlugin((_req, res, body) => {
      arrivals.push(performance.now());
      if (arrivals.length === 1) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end();
        return;
      }
      reply(res, 'ok', body);
    });
    const m = manager();
    await m.load({
      plugins: [{ name: 'p', transport: 'http', endpoint: url, retry: FAST_RETRY, ...QUIET }],
    });
    assert.equal(await m.execute('p', {}, { timeoutMs: 5_000 }), 'ok');
    assert.equal(arrivals.length, 2);
    const gap = arrivals[1]! - arrivals[0]!;
    assert.ok(gap >= 950, `retried after ${gap.toFixed(0)} ms, before Retry-After`);

    // A Retry-After beyond the deadline: the call fails now instead of waiting in vain.
    arrivals.length = 0;
    const started = performance.now();
    const error = await failure(m.execute('p', {}, { timeoutMs: 500 }));
    assert.equal(error.details?.status, 503);
    assert.equal(error.retryAfterMs, 1_000);
    assert.equal(arrivals.length, 1);
    assert.ok(performance.now() - started < 500);
  });

  test('every attempt tells the plugin its number: HTTP header and exec envelope field', async () => {
    const seen: Array<string | undefined> = [];
    const { url } = await httpPlugin((req, res, body) => {
      seen.push(req.headers['x-request-attempt'] as string | undefined);
      if (seen.length < 3) {
        res.writeHead(503);
        res.end();
        return;
      }
      reply(res, 'ok', body);
    });
    const m = manager();
    await m.load({
      plugins: [
        { name: 'h', transport: 'http', endpoint: url, retry: FAST_RETRY, ...QUIET },
        {
          name: 'x',
          transport: 'exec',
          executable: process.execPath,
          args: [RAW],
          healthCheck: { enabled: false },
        },
      ],
    });
    await m.execute('h', {});
    assert.deepEqual(seen, ['1', '2', '3']);
    assert.equal(await m.execute('x', { op: 'attempt' }), 1);
  });
});

describe('failover that never drops a call', () => {
  test('600 concurrent calls to a group of 3 with one member refusing connections: 0 fail', async () => {
    const ok: Handler = (_req, res, body) => reply(res, 'ok', body);
    const [a, b, c] = await Promise.all([httpPlugin(ok), httpPlugin(ok), httpPlugin(ok)]);
    const m = manager();
    const member = (name: string, url: string) => ({
      name,
      transport: 'http',
      endpoint: url,
      group: 'payments',
      healthCheck: { enabled: false },
    });
    await m.load({
      groups: { payments: { strategy: 'round-robin' } },
      plugins: [member('a', a!.url), member('b', b!.url), member('c', c!.url)],
    });
    await closeServer(c!.server); // from now on c refuses connections
    await sleep(100);
    const results = await Promise.allSettled(
      Array.from({ length: 600 }, () => m.execute('payments', { n: 1 })),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(
      failed.length,
      0,
      `failed: ${failed
        .slice(0, 3)
        .map((r) => String((r as PromiseRejectedResult).reason))
        .join('; ')}`,
    );
    // c was tried (and refused) before the calls went elsewhere; the free failovers took
    // nothing from the group's retry budget.
    assert.ok((m.metrics().plugins.c?.failure ?? 0) > 0, 'the refusing member was tried');
    assert.equal(m.metrics().global.retries, 0);
  });
});

describe('hedging', () => {
  test('a hedge to another member wins over a slow one, and the slow attempt is cancelled', async () => {
    let slowCancelled = false;
    let slowFinished = false;
    const slow = await httpPlugin((_req, res, body) => {
      res.on('close', () => {
        if (!res.writableEnded) slowCancelled = true;
      });
      setTimeout(() => {
        if (res.destroyed) return;
        slowFinished = true;
        reply(res, 'slow', body);
      }, 3_000).unref();
    });
    const fast = await httpPlugin((_req, res, body) => reply(res, 'fast', body));
    const m = manager();
    await m.load({
      groups: {
        g: { strategy: 'priority', idempotent: true, hedging: { delay: 50, maxHedges: 1 } },
      },
      plugins: [
        { name: 'slow', transport: 'http', endpoint: slow.url, group: 'g', priority: 10, ...QUIET },
        { name: 'fast', transport: 'http', endpoint: fast.url, group: 'g', priority: 1, ...QUIET },
      ],
    });
    const started = performance.now();
    assert.equal(await m.execute('g', {}), 'fast');
    assert.ok(performance.now() - started < 2_500, 'the hedge answered, not the slow member');
    await sleep(200);
    assert.equal(slowCancelled, true, 'the losing request was aborted on the wire');
    assert.equal(slowFinished, false);
    assert.equal(m.metrics().global.retries, 1, 'the hedge was paid from the retry budget');
  });

  test('a call that is not idempotent is never hedged', async () => {
    let slowRequests = 0;
    let fastRequests = 0;
    const slow = await httpPlugin((_req, res, body) => {
      slowRequests++;
      setTimeout(() => reply(res, 'slow', body), 200).unref();
    });
    const fast = await httpPlugin((_req, res, body) => {
      fastRequests++;
      reply(res, 'fast', body);
    });
    const m = manager();
    await m.load({
      groups: { g: { strategy: 'priority', hedging: { delay: 20, maxHedges: 1 } } },
      plugins: [
        { name: 'slow', transport: 'http', endpoint: slow.url, group: 'g', priority: 10, ...QUIET },
        { name: 'fast', transport: 'http', endpoint: fast.url, group: 'g', priority: 1, ...QUIET },
      ],
    });
    assert.equal(await m.execute('g', {}), 'slow');
    assert.deepEqual([slowRequests, fastRequests], [1, 0]);
  });
});
