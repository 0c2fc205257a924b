import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHooked } from '../support/scripts.js';

test("a transport's packages load only when a plugin of it is created; a missing one is named", () => {
  const out = runHooked(
    new URL('../fixtures/block-transport-deps.mjs', import.meta.url),
    new URL('../fixtures/no-transport-deps-host.ts', import.meta.url),
  );
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
