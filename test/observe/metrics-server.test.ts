import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Manager, definePlugin, isConfigError, type ConfigError } from '../../src/index.js';
import { serveHttp } from '../../src/sdk/http.js';
import { parseExposition } from '../support/prometheusText.js';
import { freePort, occupiedPort } from '../support/ports.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newManager(): Manager<unknown, unknown> {
  const manager = new Manager<unknown, unknown>();
  cleanups.push(() => manager.shutdown({ timeoutMs: 1_000 }));
  return manager;
}

async function get(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return false;
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    assert.equal(code, 'ECONNREFUSED', String(error));
    return true;
  }
}

// Without prom-client: see no-peers.test.ts (one child process for every missing-peer case).
describe('metrics_port', () => {
  test('serves /metrics and the probes on 127.0.0.1, and adminAddress() says where', async () => {
    const port = await freePort();
    const manager = newManager();
    await manager.load({ metrics_port: port, plugins: [] });
    await manager.register(definePlugin({ name: 'echo', execute: (req: unknown) => req }));
    await manager.execute('echo', 1);

    const address = manager.adminAddress();
    assert.deepEqual(address, { host: '127.0.0.1', port, url: `http://127.0.0.1:${port}` });

    const metrics = await get(`${address!.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.type!, /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(metrics.body);
    const requests = families.get('plugwire_requests_total')!.samples;
    assert.ok(requests.some((s) => s.labels.plugin === 'echo' && s.value === 1));

    assert.equal((await get(`${address!.url}/readyz`)).status, 200);
    assert.equal((await get(`${address!.url}/livez`)).status, 200);
    assert.deepEqual(JSON.parse((await get(`${address!.url}/healthz`)).body), { status: 'ok' });
    assert.equal((await get(`${address!.url}/nothing-here`)).status, 404);
    assert.equal((await get(`${address!.url}/metrics`, { method: 'POST' })).status, 405);
  });

  test('serves the read-only status page and its JSON beside the metrics', async () => {
    const port = await freePort();
    const manager = newManager();
    await manager.load({ metrics_port: port, plugins: [] });
    await manager.register(definePlugin({ name: 'echo', execute: (req: unknown) => req }));
    const url = manager.adminAddress()!.url;

    const page = await get(`${url}/status`);
    assert.equal(page.status, 200);
    assert.match(page.type!, /^text\/html/);
    const json = JSON.parse((await get(`${url}/status.json`)).body) as {
      plugins: Array<{ name: string }>;
    };
    assert.deepEqual(
      json.plugins.map((p) => p.name),
      ['echo'],
    );
    // No actions without a token the host gives: the action paths are not even mounted.
    const enable = await get(`${url}/status/actions/enable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ plugin: 'echo', enabled: false }),
    });
    assert.equal(enable.status, 404);
    assert.equal(manager.plugins()[0]!.enabled, true);
  });

  test('accepts metricsPort in camelCase too', async () => {
    const port = await freePort();
    const manager = newManager();
    await manager.load({ metricsPort: port, plugins: [] });
    assert.equal(manager.adminAddress()?.port, port);
  });

  test('is closed at shutdown, keep-alive connections included', async () => {
    const port = await freePort();
    const manager = new Manager();
    await manager.load({ metrics_port: port, plugins: [] });
    const url = manager.adminAddress()!.url;
    assert.equal((await get(`${url}/livez`)).status, 200); // leaves a keep-alive connection
    await manager.shutdown();
    assert.equal(manager.adminAddress(), undefined);
    assert.ok(await refused(`${url}/livez`));
  });

  test('0 (what Go writes when it is unset) and no key at all start no server', async () => {
    const a = newManager();
    await a.load({ metrics_port: 0, plugins: [] });
    assert.equal(a.adminAddress(), undefined);
    const b = newManager();
    await b.load({ plugins: [] });
    assert.equal(b.adminAddress(), undefined);
  });

  test('listens on metricsHost when one is set', async () => {
    const port = await freePort('::1');
    const manager = newManager();
    await manager.load({ metrics_port: port, metrics_host: '::1', plugins: [] });
    assert.deepEqual(manager.adminAddress(), { host: '::1', port, url: `http://[::1]:${port}` });
    assert.equal((await get(`http://[::1]:${port}/livez`)).status, 200);
  });

  test('a port in use rejects load() with a ConfigError at metricsPort, and starts no plugin', async () => {
    const taken = await occupiedPort();
    cleanups.push(() => taken.release());
    const plugin = await serveHttp(async (n: number) => n);
    cleanups.push(() => plugin.close());
    const manager = newManager();
    const error = await manager
      .load({
        metrics_port: taken.port,
        plugins: [{ name: 'p', transport: 'http', endpoint: plugin.endpoint }],
      })
      .then(
        () => assert.fail('load() resolved'),
        (e: unknown) => e as ConfigError,
      );
    assert.ok(isConfigError(error), String(error));
    assert.equal(error.issues[0]!.path, 'metricsPort');
    assert.match(error.issues[0]!.message, /EADDRINUSE/);
    assert.deepEqual(manager.plugins(), []);
    assert.equal(manager.adminAddress(), undefined);
  });

  test('a reload moves the server to its new port and closes the old one', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const manager = newManager();
    await manager.load({ metrics_port: first, plugins: [] });
    const result = await manager.reload({ metrics_port: second, plugins: [] });
    assert.equal(result.added.length, 0);
    assert.ok(await refused(`http://127.0.0.1:${first}/metrics`));
    assert.equal((await get(`http://127.0.0.1:${second}/metrics`)).status, 200);
    assert.equal(manager.adminAddress()?.port, second);
  });

  test('a reload to a port in use fails whole and keeps the running server', async () => {
    const port = await freePort();
    const taken = await occupiedPort();
    cleanups.push(() => taken.release());
    const manager = newManager();
    await manager.load({ metrics_port: port, plugins: [] });
    await manager.register(definePlugin({ name: 'echo', execute: (req: unknown) => req }));
    const failures: unknown[] = [];
    manager.on('reload-failed', ({ error }) => failures.push(error));
    await assert.rejects(
      manager.reload({ metrics_port: taken.port, log_level: 'error', plugins: [] }),
      (e: unknown) => isConfigError(e) && e.issues[0]?.path === 'metricsPort',
    );
    assert.equal(failures.length, 1);
    assert.equal(manager.adminAddress()?.port, port);
    assert.equal((await get(`http://127.0.0.1:${port}/readyz`)).status, 200);
  });

  test('a reload to metrics_port 0 closes the server', async () => {
    const port = await freePort();
    const manager = newManager();
    await manager.load({ metrics_port: port, plugins: [] });
    await manager.reload({ metrics_port: 0, plugins: [] });
    assert.equal(manager.adminAddress(), undefined);
    assert.ok(await refused(`http://127.0.0.1:${port}/metrics`));
  });
});
