import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConfigError,
  ErrorCode,
  createStatusHandler,
  serveAdmin,
  type Manager,
  type StatusDocument,
  type StatusOptions,
} from '../../src/index.js';
import { LEAKY_PASSWORD, threePlugins, traffic } from './fixture.js';

const TOKEN = 'a-token-of-24-characters';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  options: StatusOptions = {},
): Promise<{ manager: Manager; url: string; server: Server }> {
  const manager = await threePlugins();
  cleanups.push(() => manager.shutdown({ timeoutMs: 100 }));
  const handler = createStatusHandler(manager, options);
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { manager, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function json(url: string): Promise<StatusDocument> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^application\/json/);
  return (await res.json()) as StatusDocument;
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: JSON.stringify(body),
  });
}

describe('GET /status.json', () => {
  test('lists every plugin and group; rates appear once a second read spans time', async () => {
    const { manager, url } = await setup();
    const first = await json(`${url}/status.json`);
    assert.equal(first.version, 1);
    assert.equal(first.windowSeconds, 0);
    assert.deepEqual(
      first.plugins.map((p) => [p.name, p.state, p.health, p.breaker, p.callsPerSecond]),
      [
        ['ledger', 'ready', 'healthy', 'closed', null],
        ['mailer', 'ready', 'degraded', 'closed', null],
        ['vault', 'ready', 'healthy', 'closed', null],
      ],
    );
    assert.deepEqual(first.actions, { enable: false, reload: false });
    await traffic(manager, 4);
    await sleep(1100);
    const second = await json(`${url}/status.json`);
    assert.ok(second.windowSeconds >= 1, `window ${second.windowSeconds}`);
    const [ledger, mailer, vault] = second.plugins;
    assert.equal(ledger!.errorRate, 0);
    assert.ok(ledger!.callsPerSecond! > 0);
    assert.ok(ledger!.p50Ms! > 0 && ledger!.p99Ms! >= ledger!.p50Ms!);
    assert.equal(mailer!.errorRate, 1);
    assert.deepEqual(mailer!.errorCodes, { [ErrorCode.PluginConnectionFailed]: 4 });
    assert.equal(vault!.breaker, 'open');
    assert.deepEqual(vault!.errorCodes, {
      [ErrorCode.CircuitBreakerOpen]: 3,
      [ErrorCode.PluginConnectionFailed]: 1,
    });
    assert.deepEqual(second.groups, [
      {
        name: 'payments',
        members: ['ledger', 'mailer'],
        available: 2,
        inFlight: 0,
        callsPerSecond: second.groups[0]!.callsPerSecond,
        errorRate: 0.5,
        p50Ms: second.groups[0]!.p50Ms,
        p99Ms: second.groups[0]!.p99Ms,
      },
    ]);
  });

  test('carries no secret: messages are redacted', async () => {
    const { url } = await setup();
    const text = await (await fetch(`${url}/status.json`)).text();
    assert.ok(!text.includes(LEAKY_PASSWORD));
    assert.match(text, /password=\[REDACTED\]/);
  });

  test('HEAD answers without a body; other methods get 405; other paths 404 or next()', async () => {
    const { url } = await setup();
    const head = await fetch(`${url}/status.json`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const put = await fetch(`${url}/status`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(`${url}/elsewhere`)).status, 404);
    const manager = await threePlugins();
    cleanups.push(() => manager.shutdown({ timeoutMs: 100 }));
    let passed = false;
    createStatusHandler(manager)({ url: '/other', method: 'GET' } as never, {} as never, () => {
      passed = true;
    });
    assert.ok(passed);
  });
});

describe('GET /status', () => {
  test('is one self-contained page: nothing loaded from elsewhere, a strict CSP', async () => {
    const { url } = await setup({ title: 'orders <prod>' });
    const res = await fetch(`${url}/status`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const page = await res.text();
    assert.ok(!/\s(src|href)=["']?(https?:)?\/\//i.test(page), 'the page loads something remote');
    assert.ok(page.includes('<title>orders &#60;prod&#62;</title>'));
    assert.ok(!page.includes('<prod>'));
  });

  test('a read-only page has no actions: POSTs to them are not found', async () => {
    const { url, manager } = await setup();
    const res = await post(`${url}/status/actions/enable`, { plugin: 'ledger', enabled: false });
    assert.equal(res.status, 404);
    assert.equal(manager.plugins()[0]!.enabled, true);
  });
});

describe('status actions', () => {
  test('enable/disable with the token changes the plugin', async () => {
    const { url, manager } = await setup({ actions: { token: TOKEN } });
    const res = await post(`${url}/status/actions/enable`, { plugin: 'ledger', enabled: false });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'ledger disabled' });
    assert.equal(manager.plugins()[0]!.enabled, false);
    assert.deepEqual((await json(`${url}/status.json`)).actions, { enable: true, reload: false });
  });

  test('refused without the right token, without JSON, cross-origin, or as GET', async () => {
    const { url, manager } = await setup({ actions: { token: TOKEN } });
    const target = `${url}/status/actions/enable`;
    const body = { plugin: 'ledger', enabled: false };
    assert.equal((await post(target, body, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await post(target, body, { authorization: '' })).status, 401);
    assert.equal((await post(target, body, { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post(target, body, { origin: 'https://evil.example' })).status, 403);
    assert.equal((await post(target, body, { origin: 'null' })).status, 403);
    assert.equal((await fetch(target)).status, 405);
    assert.equal((await post(target, { plugin: 'ledger' })).status, 400);
    assert.equal((await post(target, { plugin: 'nope', enabled: true })).status, 404);
    assert.equal(manager.plugins()[0]!.enabled, true);
    const sameOrigin = await post(target, body, { origin: url });
    assert.equal(sameOrigin.status, 200);
  });

  test('reload runs the host callback; a refused config answers 422 without its secret', async () => {
    let reloads = 0;
    const { url } = await setup({
      actions: {
        token: TOKEN,
        reload: async () => {
          if (++reloads === 2) {
            throw new ConfigError([
              {
                path: 'plugins[0].auth',
                message: `password=${LEAKY_PASSWORD} rejected`,
                code: ErrorCode.InvalidConfig,
              },
            ]);
          }
        },
      },
    });
    const ok = await post(`${url}/status/actions/reload`, {});
    assert.equal(ok.status, 200);
    const refused = await post(`${url}/status/actions/reload`, {});
    assert.equal(refused.status, 422);
    const text = await refused.text();
    assert.match(text, /plugins\[0\]\.auth/);
    assert.equal(reloads, 2);
    assert.ok(!text.includes(LEAKY_PASSWORD));
  });

  test('a short token is refused when the handler is created', async () => {
    const manager = await threePlugins();
    cleanups.push(() => manager.shutdown({ timeoutMs: 100 }));
    assert.throws(
      () => createStatusHandler(manager, { actions: { token: 'short' } }),
      (e: { code?: string }) => e.code === ErrorCode.InvalidConfig,
    );
  });
});

describe('serveAdmin', () => {
  test('serves the status page and the probes on loopback, and closes', async () => {
    const manager = await threePlugins();
    cleanups.push(() => manager.shutdown({ timeoutMs: 100 }));
    const admin = await serveAdmin({ manager, port: 0 });
    assert.match(admin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${admin.url}/status`)).status, 200);
    assert.equal((await fetch(`${admin.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${admin.url}/livez`)).status, 200);
    assert.equal((await fetch(`${admin.url}/nope`)).status, 404);
    await admin.close();
    await assert.rejects(fetch(`${admin.url}/status`));
  });
});
