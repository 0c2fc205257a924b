import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import type { ReadinessConfig } from '../config/types.js';
import type { HealthState, HealthStatus } from '../types.js';
import {
  createProbeHandler,
  type ProbeHandler,
  type ProbeOptions,
  type ProbeSource,
} from './probe.js';
import { computeReadiness, type PluginReadinessInput } from './readiness.js';

/** A manager stand-in: plugins whose state and health the test sets. */
function fakeSource(config: ReadinessConfig = { policy: 'attempted', required: [] }) {
  const plugins = new Map<string, PluginReadinessInput>();
  let initial = ['payments-a', 'vault'];
  let closing = false;
  const source: ProbeSource = {
    readiness: () => computeReadiness({ initial, plugins: plugins.values(), config }),
    health: () =>
      Object.fromEntries(
        [...plugins].map(([name, p]) => [name, p.health] as [string, HealthStatus]),
      ),
    isShuttingDown: () => closing,
  };
  return {
    source,
    set(name: string, state: PluginReadinessInput['state'], health: HealthState = 'healthy') {
      plugins.set(name, {
        name,
        state,
        health: {
          status: health,
          message: `v1.2.3 at https://${name}.internal`,
          lastCheck: 1,
          responseTimeMs: 2,
        },
        startAttempts: 1,
        maxAttempts: 5,
        lastError: state === 'failed' ? `connect ECONNREFUSED https://${name}.internal` : undefined,
        enabled: true,
      });
    },
    setInitial(names: string[]) {
      initial = names;
    },
    close() {
      closing = true;
    },
  };
}

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: ProbeHandler, withNext = false): Promise<string> {
  const server = createServer((req, res) =>
    withNext
      ? handler(req, res, () => {
          res.statusCode = 418;
          res.end('next');
        })
      : handler(req, res),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(base: string, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function probeServer(options?: ProbeOptions, config?: ReadinessConfig) {
  const fake = fakeSource(config);
  const base = await serve(createProbeHandler(fake.source, options));
  return { ...fake, base };
}

describe('probe handler: /readyz', () => {
  test('answers 503 with a reason that names no plugin while initial plugins start', async () => {
    const { base, set } = await probeServer();
    set('payments-a', 'ready');
    set('vault', 'starting');
    const reply = await call(base, '/readyz');
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body), {
      status: 'not ready',
      reason: 'plugins still starting',
    });
    assert.doesNotMatch(reply.body, /vault|payments|internal/);
  });

  test('answers 200 {"status":"ok"} once every initial plugin finished starting', async () => {
    const { base, set } = await probeServer();
    set('payments-a', 'ready');
    set('vault', 'failed');
    const reply = await call(base, '/readyz');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '{"status":"ok"}');
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
  });

  test('?verbose adds the report: plugin names, states and errors', async () => {
    const { base, set } = await probeServer();
    set('payments-a', 'ready');
    set('vault', 'starting');
    const body = JSON.parse((await call(base, '/readyz?verbose')).body);
    assert.equal(body.status, 'not ready');
    assert.equal(body.code, 'starting');
    assert.match(body.detail, /vault/);
    assert.equal(body.initial.plugins.vault.state, 'starting');
  });

  test('verboseQuery: false ignores ?verbose; verbose: true always gives the detail', async () => {
    const quiet = await probeServer({ verboseQuery: false });
    quiet.set('payments-a', 'ready');
    quiet.set('vault', 'ready');
    assert.equal((await call(quiet.base, '/readyz?verbose')).body, '{"status":"ok"}');
    const loud = await probeServer({ verbose: true });
    loud.set('payments-a', 'ready');
    loud.set('vault', 'ready');
    assert.equal(JSON.parse((await call(loud.base, '/readyz')).body).initial.ready, 2);
  });

  test('HEAD gets the status and headers without a body', async () => {
    const { base, set } = await probeServer();
    set('payments-a', 'starting');
    const reply = await call(base, '/readyz', 'HEAD');
    assert.equal(reply.status, 503);
    assert.equal(reply.body, '');
    assert.equal(reply.headers['cache-control'], 'no-store');
  });

  test('a source that throws gives 503 {"status":"error"} and leaks nothing', async () => {
    const source: ProbeSource = {
      readiness: () => {
        throw new Error('secret internals');
      },
      health: () => ({}),
    };
    const base = await serve(createProbeHandler(source));
    const reply = await call(base, '/readyz');
    assert.equal(reply.status, 503);
    assert.equal(reply.body, '{"status":"error"}');
  });
});

describe('probe handler: /livez and /healthz', () => {
  test('/livez is 200 whatever the plugins, and 503 once the manager shuts down', async () => {
    const { base, set, close } = await probeServer();
    set('payments-a', 'failed');
    set('vault', 'ready', 'offline');
    assert.equal((await call(base, '/livez')).status, 200);
    close();
    const reply = await call(base, '/livez');
    assert.equal(reply.status, 503);
    assert.equal((await call(base, '/readyz')).status, 503);
    assert.equal((await call(base, '/healthz')).status, 503);
  });

  test('/healthz is 200 with unhealthy plugins, 503 when an initial plugin is offline', async () => {
    const { base, set } = await probeServer();
    set('payments-a', 'ready', 'unhealthy');
    set('vault', 'ready');
    assert.equal((await call(base, '/healthz')).status, 200);
    set('vault', 'ready', 'offline');
    const reply = await call(base, '/healthz');
    assert.equal(reply.status, 503);
    assert.doesNotMatch(reply.body, /vault/);
  });

  test('/healthz ignores an offline runtime plugin unless it is required', async () => {
    const plain = await probeServer();
    plain.setInitial(['payments-a']);
    plain.set('payments-a', 'ready');
    plain.set('late', 'ready', 'offline');
    assert.equal((await call(plain.base, '/healthz')).status, 200);
    const strict = await probeServer({}, { policy: 'attempted', required: ['late'] });
    strict.setInitial(['payments-a']);
    strict.set('payments-a', 'ready');
    strict.set('late', 'ready', 'offline');
    assert.equal((await call(strict.base, '/healthz')).status, 503);
  });

  test('/healthz?verbose lists plugin health without metadata', async () => {
    const { base, set } = await probeServer();
    set('payments-a', 'ready');
    set('vault', 'ready', 'offline');
    const body = JSON.parse((await call(base, '/healthz?verbose')).body);
    assert.deepEqual(body.offline, ['vault']);
    assert.equal(body.plugins.vault.status, 'offline');
    assert.equal('metadata' in body.plugins.vault, false);
  });
});

describe('probe handler: routing', () => {
  test('an unknown path is 404 without next, and goes to next() with it', async () => {
    const { source } = fakeSource();
    const alone = await serve(createProbeHandler(source));
    assert.equal((await call(alone, '/metrics')).status, 404);
    const mounted = await serve(createProbeHandler(source), true);
    const reply = await call(mounted, '/metrics');
    assert.equal(reply.status, 418);
    assert.equal(reply.body, 'next');
  });

  test('another method on a probe path is 405 with Allow', async () => {
    const { base } = await probeServer();
    const reply = await call(base, '/livez', 'POST');
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.allow, 'GET, HEAD');
  });

  test('custom paths replace the defaults', async () => {
    const { base } = await probeServer({ paths: { live: '/ping' } });
    assert.equal((await call(base, '/ping')).status, 200);
    assert.equal((await call(base, '/livez')).status, 404);
  });
});
