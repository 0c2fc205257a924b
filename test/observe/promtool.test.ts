import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  ErrorCode,
  Manager,
  applicationError,
  definePlugin,
  isPluginError,
} from '../../src/index.js';
import { serveHttp } from '../../src/sdk/http.js';
import { freePort } from '../support/ports.js';

// Prometheus' own linter on the exposition a go-plugins config's metrics_port serves. promtool
// comes from Debian's `prometheus` package; .ci/run installs it when it is absent.

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function findPromtool(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

test('promtool check metrics passes the exposition served on metrics_port, without lint problems', async (t) => {
  const promtool = findPromtool();
  assert.ok(
    promtool !== undefined,
    'promtool is missing: install Debian package "prometheus" (npm test does it when absent, as root)',
  );

  const served = await serveHttp(async (n: number) => {
    if (n < 0) throw applicationError('negative');
    return n * 2;
  });
  cleanups.push(() => served.close());
  const manager = new Manager<number, number>();
  cleanups.push(() => manager.shutdown({ timeoutMs: 1_000 }));
  await manager.load({
    metrics_port: await freePort(),
    plugins: [{ name: 'doubler', transport: 'http', endpoint: served.endpoint, group: 'math' }],
  });
  await manager.register(
    definePlugin<number, number>({
      name: 'flaky',
      execute: () => {
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      },
    }),
    {
      retry: { maxRetries: 0 },
      circuitBreaker: { failureThreshold: 2 },
      healthCheck: { enabled: false },
    },
  );

  assert.equal(await manager.execute('doubler', 21), 42); // success
  assert.equal(await manager.execute('math', 1), 2); // through the group
  await assert.rejects(manager.execute('doubler', -1), { code: ErrorCode.ApplicationError });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(manager.execute('flaky', 0), (e) => isPluginError(e));
  }
  await assert.rejects(manager.execute('flaky', 0), { code: ErrorCode.CircuitBreakerOpen });
  assert.equal(manager.plugins().find((p) => p.name === 'flaky')?.breaker?.state, 'open');

  const res = await fetch(`${manager.adminAddress()!.url}/metrics`);
  assert.equal(res.status, 200);
  const exposition = await res.text();
  // The calls above are in it: the lint ran on real series, not on an empty registry.
  assert.match(exposition, /plugwire_requests_total\{[^}]*plugin="doubler"/);
  assert.match(exposition, /plugwire_circuit_state\{[^}]*plugin="flaky"[^}]*\} 2/);

  const check = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  assert.equal(check.error, undefined);
  assert.equal(
    `${check.stdout}${check.stderr}`.trim(),
    '',
    'promtool reported problems with the exposition',
  );
  assert.equal(check.status, 0);
});
