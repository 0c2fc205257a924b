import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { silentLogger } from '../../src/observe/logger.js';
import { serveHttp } from '../../src/sdk/http.js';
import { httpFactory } from '../../src/transport/http/index.js';
import { callContext } from '../support/context.js';

// Alone in its file (its own process), so that no other test's sockets are counted.

function netHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((name) => name === 'TCPSocketWrap' || name === 'TCPServerWrap');
}

test('after the plugin and the SDK server close, no socket or server handle is left open', async () => {
  const before = netHandles().length;
  const served = await serveHttp((req: number) => req + 1);
  const config = pluginConfig({ name: 'handles', transport: 'http', endpoint: served.endpoint });
  const plugin = httpFactory.create(config, { codec: jsonCodec, logger: silentLogger });
  await plugin.start?.(new AbortController().signal);
  const ctx = callContext({ deadline: Date.now() + 10_000 });
  assert.equal(await plugin.execute(1, ctx), 2);
  assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
  assert.ok(netHandles().length > before, 'the call should have opened sockets');
  await plugin.close();
  await served.close();
  // Handles are released in the event loop's close phase, which follows the check phase:
  // two setImmediate turns are enough, no timer needed.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(netHandles().length, before);
});
