import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { Manager, createProbeHandler, type HealthState } from '../../src/index.js';
import { serveUnix } from '../../src/sdk/index.js';
import { tempDir } from '../support/tmp.js';

const FIXTURE = new URL('../fixtures/health-plugin.mjs', import.meta.url).pathname;
const tmp = tempDir('plugwire-readiness-');
after(() => tmp.remove());

/** An exec plugin running test/fixtures/health-plugin.mjs with the given environment. */
function execPlugin(name: string, env: string[] = []) {
  return {
    name,
    transport: 'exec',
    executable: process.execPath,
    args: [FIXTURE],
    env,
    // Deadlines for correctness on a loaded machine (22 children starting at once on 2 cores):
    // a start or check that never finishes still fails, one that is merely slow does not.
    startup: { maxAttempts: 5, initialInterval: 100, maxInterval: 200, timeout: 30_000 },
    healthCheck: { interval: 200, timeout: 10_000, failureLimit: 2 },
  };
}

/** `slow` plugins that need ~300 ms to become healthy, and 2 that never do. */
function fleet(readiness: Record<string, unknown>, slow = 20) {
  return {
    readiness,
    plugins: [
      ...Array.from({ length: slow }, (_, i) => execPlugin(`slow-${i}`, ['READY_AFTER_MS=300'])),
      execPlugin('broken-a', ['NEVER_HEALTHY=1']),
      execPlugin('broken-b', ['NEVER_HEALTHY=1']),
    ],
  };
}

describe('readiness with real child processes', () => {
  test('not ready while any initial plugin is still trying; ready once all finished, failures listed', async () => {
    const manager = new Manager();
    try {
      // Which plugins finished trying, seen from the events, not from the report under test.
      const finished = new Set<string>();
      manager.on('plugin-state', (e) => {
        if (e.to === 'ready' || e.to === 'failed') finished.add(e.plugin);
      });
      const loading = manager.load(fleet({ policy: 'attempted' }));
      let done = false;
      let samplesWhileTrying = 0;
      void loading.then(() => (done = true));
      while (!done) {
        const allFinished = finished.size === 22;
        const ready = manager.readiness().ready;
        if (!allFinished) {
          samplesWhileTrying++;
          assert.equal(ready, false, `ready with ${22 - finished.size} plugins still trying`);
        }
        await sleep(10);
      }
      assert.ok(samplesWhileTrying > 0, 'the report was observed before startup finished');
      const report = manager.readiness();
      assert.equal(report.ready, true, report.reason);
      assert.equal(report.initial.total, 22);
      assert.equal(report.initial.ready, 20);
      assert.equal(report.initial.failed, 2);
      assert.equal(report.initial.plugins['broken-a']?.state, 'failed');
      assert.equal(report.initial.plugins['broken-b']?.attempts, 5);
      assert.match(report.initial.plugins['broken-a']?.lastError ?? '', /first health check/);
      await manager.whenReady({ timeoutMs: 10 });
    } finally {
      await manager.shutdown();
    }
  });

  test('under the healthy policy the two broken plugins keep it not ready', async () => {
    const manager = new Manager();
    try {
      // The policy, not the crowd, is the point here: 4 healthy plugins, not 20.
      await manager.load(fleet({ policy: 'healthy' }, 4));
      const report = manager.readiness();
      assert.equal(report.ready, false);
      assert.equal(report.code, 'policy');
      await assert.rejects(manager.whenReady({ timeoutMs: 50 }), { code: 'PLUGIN_1213' });
    } finally {
      await manager.shutdown();
    }
  });

  test('a failing required plugin keeps it not ready under the attempted policy', async () => {
    const manager = new Manager();
    try {
      await manager.load(fleet({ policy: 'attempted', required: ['broken-a'] }, 4));
      const report = manager.readiness();
      assert.equal(report.ready, false);
      assert.equal(report.code, 'required');
      assert.deepEqual(report.required, { 'broken-a': false });
    } finally {
      await manager.shutdown();
    }
  });
});

async function get(port: number, path: string): Promise<number> {
  const req = request({ host: '127.0.0.1', port, path, method: 'GET' });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  res.resume();
  await once(res, 'end');
  return res.statusCode ?? 0;
}

test('adding a slow plugin at runtime leaves /readyz at 200 the whole time', async () => {
  const manager = new Manager();
  const server: Server = createServer(createProbeHandler(manager));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    assert.equal(await get(port, '/readyz'), 503, 'nothing loaded yet');
    await manager.load({ plugins: [execPlugin('first')] });
    assert.equal(await get(port, '/readyz'), 200);

    const adding = manager.load({
      plugins: [
        {
          ...execPlugin('late', ['READY_AFTER_MS=600']),
          startup: { maxAttempts: 20, initialInterval: 100, maxInterval: 100 },
        },
      ],
    });
    let finished = false;
    void adding.then(() => (finished = true));
    const statuses: number[] = [];
    while (!finished) {
      statuses.push(await get(port, '/readyz'));
      await sleep(20);
    }
    assert.ok(statuses.length >= 5, `polled ${statuses.length} times`);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(manager.readiness().runtime.plugins.late?.state, 'ready');
    assert.equal(await get(port, '/livez'), 200);
  } finally {
    await manager.shutdown();
    server.close();
    await once(server, 'close');
  }
});

test('a plugin whose endpoint appears later becomes healthy without restarting the manager', async () => {
  const socket = join(tmp.dir, 'late.sock');
  const manager = new Manager();
  const changes: HealthState[] = [];
  manager.on('health-change', (e) => e.plugin === 'late' && changes.push(e.to));
  let served: Awaited<ReturnType<typeof serveUnix>> | undefined;
  try {
    const result = await manager.load({
      plugins: [
        {
          name: 'late',
          transport: 'unix',
          socketPath: socket,
          startup: { maxAttempts: 2, initialInterval: 50, maxInterval: 100 },
          healthCheck: { interval: 100, timeout: 500 },
        },
      ],
    });
    assert.equal(result.plugins[0]?.state, 'failed');
    assert.notEqual(manager.health().late?.status, 'healthy');
    await assert.rejects(manager.execute('late', {}), { code: 'PLUGIN_1211' });

    served = await serveUnix(async (req) => ({ echo: req }), { path: socket });
    const deadline = Date.now() + 30_000;
    while (manager.plugins()[0]?.state !== 'ready' && Date.now() < deadline) await sleep(20);
    assert.equal(manager.plugins()[0]?.state, 'ready');
    assert.equal(manager.health().late?.status, 'healthy');
    assert.deepEqual(await manager.execute('late', { n: 1 }), { echo: { n: 1 } });
    assert.ok(changes.includes('healthy'));
  } finally {
    await manager.shutdown();
    await served?.close();
  }
});

test('a plugin failing failureLimit checks goes offline, then comes back', async () => {
  const sick = join(tmp.dir, 'sick');
  const manager = new Manager();
  const changes: HealthState[] = [];
  manager.on('health-change', (e) => changes.push(e.to));
  try {
    await manager.load({ plugins: [execPlugin('flappy', [`SICK_FILE=${sick}`])] });
    assert.equal(manager.health().flappy?.status, 'healthy');

    writeFileSync(sick, '');
    const until = async (state: HealthState): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (manager.health().flappy?.status !== state && Date.now() < deadline) await sleep(20);
      assert.equal(manager.health().flappy?.status, state);
    };
    await until('offline');
    rmSync(sick);
    await until('healthy');
    // The plugin says "unhealthy" itself, so there is no "degraded" step on the way down.
    assert.deepEqual(changes, ['healthy', 'unhealthy', 'offline', 'healthy']);
  } finally {
    await manager.shutdown();
  }
});
