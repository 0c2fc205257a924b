// Outlier ejection over real HTTP servers: a member answering 500 is ejected from its group,
// reported in events and Prometheus, and comes back when its ejection ends.
import assert from 'node:assert/strict';

import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { Manager, collectPrometheus, type ManagerEvents } from '../../src/index.js';
import { loopbackHttp } from '../support/httpServers.js';

const HANG_GUARD = { timeout: 60_000 };

/** An HTTP plugin on node:http: answers 500 while `broken()`, else the envelope; counts calls. */
async function plugin(broken: () => boolean, counter: { calls: number }): Promise<string> {
  return loopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      counter.calls++;
      if (broken()) return void res.writeHead(500).end('down');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: 'ok', request_id: req.headers['x-request-id'] }));
    });
  });
}

test(
  'a member failing in a row is ejected, reported, served around, and comes back',
  HANG_GUARD,
  async () => {
    let broken = true;
    const counts = [{ calls: 0 }, { calls: 0 }, { calls: 0 }];
    const endpoints = await Promise.all(
      counts.map((counter, i) => plugin(() => i === 0 && broken, counter)),
    );
    const manager = new Manager();
    const ejected: ManagerEvents['outlier-ejected'][] = [];
    const returned: ManagerEvents['outlier-returned'][] = [];
    manager.on('outlier-ejected', (e) => ejected.push(e));
    manager.on('outlier-returned', (e) => returned.push(e));
    const registry = new Registry();
    const metrics = await collectPrometheus(manager, { registry });
    try {
      await manager.load({
        groups: {
          api: {
            strategy: 'round-robin',
            // A 500 is retried (on another member) only for idempotent calls.
            idempotent: true,
            retry: { maxRetries: 2, initialInterval: 1, maxInterval: 2 },
            outlier_detection: {
              consecutive_failures: 3,
              base_ejection_time: '300ms',
              max_ejection_percent: 34,
            },
          },
        },
        plugins: endpoints.map((endpoint, i) => ({
          name: `api-${i}`,
          group: 'api',
          transport: 'http',
          endpoint,
          // The breaker would take it out too: off, so that ejection alone is seen.
          circuitBreaker: { enabled: false },
          healthCheck: { enabled: false },
        })),
      });
      // Round robin: every third attempt reaches api-0 and fails; the retry goes elsewhere.
      for (let i = 0; i < 30; i++) assert.equal(await manager.execute('api', i), 'ok');
      assert.ok(ejected.length >= 1, 'ejected');
      assert.deepEqual(
        { ...ejected[0], durationMs: undefined },
        {
          group: 'api',
          plugin: 'api-0',
          ejections: 1,
          durationMs: undefined,
          consecutiveFailures: 3,
        },
      );
      // A loaded machine may outlast an ejection with 30 calls: each ejection took 3 new failures,
      // and no call reached the member while it was out.
      const between = counts[0]!.calls - 3 * ejected.length;
      assert.ok(between >= 0 && between <= 2, `calls on it: ${counts[0]!.calls}`);
      const text = await registry.metrics();
      assert.ok(
        text.includes(
          `plugwire_outlier_ejections_total{plugin="api-0",group="api"} ${ejected.length}`,
        ),
        text,
      );

      broken = false;
      // An ejection ends at the group's first pick after its time: keep calling until it has.
      while (returned.length < ejected.length) {
        assert.equal(await manager.execute('api', 0), 'ok');
        await sleep(50);
      }
      assert.equal(returned.at(-1)?.plugin, 'api-0');
      const before = counts[0]!.calls;
      for (let i = 0; i < 30; i++) assert.equal(await manager.execute('api', i), 'ok');
      assert.equal(counts[0]!.calls - before, 10, 'back in rotation: a third of the calls');
      assert.match(
        await registry.metrics(),
        /plugwire_outlier_ejected\{plugin="api-0",group="api"\} 0/,
      );
    } finally {
      metrics.stop();
      await manager.shutdown();
    }
  },
);

test('an invalid outlierDetection section is refused by path', async () => {
  const manager = new Manager();
  await assert.rejects(
    manager.load({
      groups: { api: { outlierDetection: { maxEjectionPercent: 120, consecutiveFailures: 0 } } },
      plugins: [],
    }),
    (error: { issues?: Array<{ path: string }> }) => {
      const paths = (error.issues ?? []).map((i) => i.path).sort();
      assert.deepEqual(paths, [
        'groups.api.outlierDetection.consecutiveFailures',
        'groups.api.outlierDetection.maxEjectionPercent',
      ]);
      return true;
    },
  );
  await manager.shutdown();
});
