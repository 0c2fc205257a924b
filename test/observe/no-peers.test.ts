import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { nodeScript } from '../support/scripts.js';
import { tempDir } from '../support/tmp.js';

test('without the optional peers installed the library works, and asks for them only when used', () => {
  const dir = tempDir('plugwire-no-peers-');
  after(() => dir.remove());
  const log = join(dir.dir, 'peers.log');
  writeFileSync(log, '');
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      new URL('../fixtures/block-peers.mjs', import.meta.url).pathname,
      '--no-warnings',
      ...nodeScript(new URL('../fixtures/no-peers-host.ts', import.meta.url)),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', PEERS_LOG: log },
      timeout: 60_000,
    },
  );
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(out.results, [42, 42]);
  assert.equal(out.metrics, 2);
  assert.match(out.prometheus, /prom-client/);
  assert.match(out.tracing, /@opentelemetry\/api/);
  assert.match(out.cluster, /needs the optional peer dependency ioredis: npm install ioredis/);
  // metrics_port without prom-client: refused at load, naming the package; nothing listens.
  assert.equal(out.metricsPort.path, 'metricsPort');
  assert.match(out.metricsPort.message, /npm install prom-client/);
  assert.equal(out.metricsPort.address, null);
  assert.equal(out.metricsPort.refused, true);
  // Calls never reached for a peer: only the explicit requests did.
  const requested = readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(requested, ['prom-client', '@opentelemetry/api', 'ioredis', 'prom-client']);
});
