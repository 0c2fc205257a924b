// CommonJS hosts: Node >= 20.19 can require() the ESM build. This runs against dist/ through the
// package's own `exports` map (a self-reference), exactly as a CommonJS user would load it.
'use strict';
const assert = require('node:assert/strict');
const plugwire = require('plugwire');
const sdk = require('plugwire/sdk');

assert.equal(typeof plugwire.Manager, 'function');
assert.equal(typeof plugwire.definePlugin, 'function');
assert.equal(typeof sdk.applicationError, 'function');
// One copy of every module behind both entries (the build shares chunks between them).
assert.equal(sdk.PluginError, plugwire.PluginError);
assert.ok(sdk.applicationError('x') instanceof plugwire.PluginError);

(async () => {
  const manager = new plugwire.Manager({ builtinTransports: false });
  await manager.register(plugwire.definePlugin({ name: 'upper', execute: (s) => s.toUpperCase() }));
  assert.equal(await manager.execute('upper', 'cjs works'), 'CJS WORKS');
  const error = await manager.execute('missing', '').catch((e) => e);
  assert.ok(plugwire.isPluginError(error));
  assert.equal(error.code, 'PLUGIN_1201');
  await manager.shutdown();
  console.log('CommonJS require(): ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
