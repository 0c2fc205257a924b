// A plugin whose startup attempts ran out while its endpoint still answers (NOT_SERVING, 503) is
// re-checked at its health interval, not only at the startup backoff (issue #13): with
// `startup.maxInterval` at one hour, it still becomes ready once its server says it serves.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { sendUnaryData } from '@grpc/grpc-js';
import { Manager } from '../../src/index.js';
import { closeAll, plainServer } from '../transport/grpc-support.js';

/** A test that would hang if the behaviour broke fails after this instead (not a speed check). */
const HANG_GUARD = { timeout: 30_000 };

const httpServers: Server[] = [];
after(async () => {
  await closeAll();
  for (const server of httpServers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

// The background attempts would wait an hour: only the health interval can make it ready.
const startup = { maxAttempts: 2, initialInterval: 20, maxInterval: '1h', timeout: 2_000 };
const healthCheck = { interval: 100, timeout: 1_000, failureLimit: 3 };

/** Waits until `condition()` holds, polling; fails with `what` after `ms` (a hang guard). */
async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what}`);
    await sleep(20);
  }
}

/** Loads `plugin`, checks that its attempts ran out, turns its server on, waits for ready. */
/**
 * Loads `plugin` while `server` says it is not serving, checks the re-checks while it is failed,
 * then lets it serve: the plugin must turn ready and answer a call. The manager is always shut
 * down, whatever fails.
 */
async function failThenServe(
  plugin: Record<string, unknown>,
  server: { serving: boolean; checks: number },
): Promise<void> {
  const manager = new Manager();
  try {
    await readyOnceServing(manager, plugin, server);
    assert.equal(await manager.execute('svc', {}), 'done');
  } finally {
    await manager.shutdown();
  }
}

async function readyOnceServing(
  manager: Manager,
  plugin: Record<string, unknown>,
  server: { serving: boolean; checks: number },
): Promise<void> {
  const failures: string[] = [];
  manager.on('startup-attempt-failed', (e) => failures.push(e.error));
  const [result] = (await manager.load({ plugins: [plugin] })).plugins;
  assert.equal(result?.state, 'failed', 'its startup attempts ran out');
  // Re-checked at the health interval while it answers "not serving"...
  const checksAtFailure = server.checks;
  await until(() => server.checks >= checksAtFailure + 3, 'three more checks while failed');
  assert.equal(manager.plugins()[0]?.state, 'failed');
  // ...without a start-attempt event per check: the same failure is reported once per maxInterval
  // (one more when it changes: after failureLimit checks the plugin reads offline, not unhealthy).
  assert.ok(failures.length <= startup.maxAttempts + 1, failures.join('\n'));
  server.serving = true;
  await until(() => manager.plugins()[0]?.state === 'ready', 'ready after the server serves');
}

describe('a plugin that failed its startup while its endpoint answers', () => {
  test(
    'gRPC: NOT_SERVING, then SERVING: ready at the next health check, and usable',
    HANG_GUARD,
    async () => {
      const server = { serving: false, checks: 0 };
      const { endpoint } = await plainServer({
        plugin: {
          Execute: (_call: unknown, cb: sendUnaryData<unknown>) =>
            cb(null, { data: Buffer.from('"done"') }),
        },
        health: {
          Check: (_call: unknown, cb: sendUnaryData<unknown>) => {
            server.checks++;
            cb(null, { status: server.serving ? 'SERVING' : 'NOT_SERVING' });
          },
        },
      });
      await failThenServe(
        { name: 'svc', transport: 'grpc', endpoint, startup, healthCheck },
        server,
      );
    },
  );

  test(
    'HTTP: 503 from the health endpoint, then 200: ready at the next health check, and usable',
    HANG_GUARD,
    async () => {
      const server = { serving: false, checks: 0 };
      const http = createServer((req, res) => {
        if (req.method === 'GET' && req.url?.endsWith('/health')) {
          server.checks++;
          res.writeHead(server.serving ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: server.serving ? 'healthy' : 'starting' }));
          return;
        }
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: 'done', request_id: req.headers['x-request-id'] }));
        });
      });
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      httpServers.push(http);
      const endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api`;
      await failThenServe(
        { name: 'svc', transport: 'http', endpoint, startup, healthCheck },
        server,
      );
    },
  );

  test(
    'an endpoint that does not answer at all is still retried at startup.maxInterval only',
    HANG_GUARD,
    async () => {
      // gRPC's start() needs an answer: nothing listens here, so start() fails, not the check.
      const probe = createServer();
      probe.listen(0, '127.0.0.1');
      await once(probe, 'listening');
      const port = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));
      const manager = new Manager();
      const attempts: number[] = [];
      manager.on('startup-attempt-failed', (e) => attempts.push(e.attempt));
      try {
        const [result] = (
          await manager.load({
            plugins: [
              {
                name: 'gone',
                transport: 'grpc',
                endpoint: `127.0.0.1:${port}`,
                startup: { ...startup, maxInterval: 400 },
                healthCheck,
                connection: { connectionTimeout: 200 },
              },
            ],
          })
        ).plugins;
        assert.equal(result?.state, 'failed');
        await sleep(1_000); // ten health intervals, two or three startup intervals
        assert.ok(attempts.length <= startup.maxAttempts + 4, `${attempts.length} attempts`);
      } finally {
        await manager.shutdown();
      }
    },
  );
});
