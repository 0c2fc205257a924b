import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHooked } from '../support/scripts.js';

test("import 'plugwire/sdk' asks for no package; serveGrpc loads @grpc/grpc-js and names it when missing", () => {
  const out = runHooked(
    new URL('../fixtures/log-packages.mjs', import.meta.url),
    new URL('../fixtures/sdk-import-host.ts', import.meta.url),
    { BLOCK_PACKAGES: '@grpc/grpc-js' },
  );
  assert.deepEqual(out.afterImport, [], 'the import asked for no package');
  assert.equal(out.grpc.pluginError, true, out.grpc.message);
  assert.equal(out.grpc.code, 'TRANSPORT_1302');
  assert.match(out.grpc.message, /needs the package @grpc\/grpc-js.*npm install @grpc\/grpc-js/);
});
