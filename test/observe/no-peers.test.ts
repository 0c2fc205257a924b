import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('without the optional peers installed the library works, and asks for them only when used', () => {
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      new URL('../fixtures/block-peers.mjs', import.meta.url).pathname,
      '--loader',
      'ts-node/esm',
      '--no-warnings',
      new URL('../fixtures/no-peers-host.ts', import.meta.url).pathname,
    ],
    { encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, timeout: 60_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(out.results, [42, 42]);
  assert.equal(out.metrics, 2);
  assert.match(out.prometheus, /prom-client/);
  assert.match(out.tracing, /@opentelemetry\/api/);
  // Calls never reached for a peer: only the two explicit requests did.
  const requested = run.stderr.split('\n').filter((line) => line.startsWith('peer requested:'));
  assert.deepEqual(requested, [
    'peer requested: prom-client',
    'peer requested: @opentelemetry/api',
  ]);
});
