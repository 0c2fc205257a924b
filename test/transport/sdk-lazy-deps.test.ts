import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../support/tmp.js';

test("import 'plugwire/sdk' asks for no package; serveGrpc loads @grpc/grpc-js and names it when missing", () => {
  const dir = tempDir('plugwire-sdk-deps-');
  after(() => dir.remove());
  const log = join(dir.dir, 'deps.log');
  writeFileSync(log, '');
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      new URL('../fixtures/log-packages.mjs', import.meta.url).pathname,
      '--loader',
      'ts-node/esm',
      '--no-warnings',
      new URL('../fixtures/sdk-import-host.ts', import.meta.url).pathname,
    ],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        TS_NODE_TRANSPILE_ONLY: 'true',
        DEPS_LOG: log,
        BLOCK_PACKAGES: '@grpc/grpc-js',
      },
      timeout: 60_000,
    },
  );
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  // Not grpc-js, undici, zod, yaml, ioredis, p-retry...: an exec or Unix plugin starts fast.
  assert.deepEqual(out.afterImport, [], 'the import asked for no package');
  assert.equal(out.grpc.pluginError, true, out.grpc.message);
  assert.equal(out.grpc.code, 'TRANSPORT_1302');
  assert.match(out.grpc.message, /needs the package @grpc\/grpc-js.*npm install @grpc\/grpc-js/);
});
