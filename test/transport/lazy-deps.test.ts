import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { nodeScript } from '../support/scripts.js';
import { tempDir } from '../support/tmp.js';

test("a transport's packages load only when a plugin of it is created; a missing one is named", () => {
  const dir = tempDir('plugwire-lazy-deps-');
  after(() => dir.remove());
  const log = join(dir.dir, 'deps.log');
  writeFileSync(log, '');
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      new URL('../fixtures/block-transport-deps.mjs', import.meta.url).pathname,
      '--no-warnings',
      ...nodeScript(new URL('../fixtures/no-transport-deps-host.ts', import.meta.url)),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', DEPS_LOG: log },
      timeout: 60_000,
    },
  );
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(out.afterImport, [], "import 'plugwire' asked for no transport package");
  assert.deepEqual(out.afterLocal, [], 'nor did an in-process plugin');
  assert.equal(out.local, 42);
  assert.equal(out.http.pluginError, true);
  assert.equal(out.http.code, 'TRANSPORT_1301');
  assert.equal(out.http.package, 'undici');
  assert.match(out.http.message, /transport "http" needs the package undici.*npm install undici/);
  assert.equal(out.grpc.pluginError, true);
  assert.equal(out.grpc.code, 'TRANSPORT_1302');
  assert.match(
    out.grpc.message,
    /transport "grpc" needs the package @grpc\/(grpc-js|proto-loader)/,
  );
  assert.deepEqual(out.plugins, ['local'], 'the failed loads created nothing');
});
