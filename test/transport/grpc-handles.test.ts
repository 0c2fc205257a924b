import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../support/tmp.js';
import { ctx, grpcPlugin, serve } from './grpc-support.js';

// Alone in its file (its own process), so that no other test's handles are counted.

const COUNTED = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'PipeWrap',
  'PipeServerWrap',
  'Timeout',
]);

function handles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((name) => COUNTED.has(name))
    .sort();
}

/**
 * Handles are released in the close phase of the event loop, the peer's side once it has read
 * the close: turns the loop (no timer, so that none is counted) until `done` or 1000 turns.
 */
async function settle(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !done(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('after the plugin and the SDK server close, no socket, server or timer is left', async () => {
  const dir = tempDir('plugwire-grpc-');
  const before = handles();
  for (const options of [{}, { socketPath: join(dir.dir, 'h.sock') }]) {
    const served = await serve((n: number) => n + 1, options);
    const plugin = grpcPlugin(served.endpoint);
    await plugin.start?.(AbortSignal.timeout(5_000));
    assert.equal(await plugin.execute(1, ctx()), 2);
    assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
    assert.ok(handles().length > before.length, 'the calls should have opened sockets');
    const listening = handles();
    await plugin.close();
    // Only the server's listener is left once the client closed its connection.
    await settle(() => handles().length <= before.length + 1);
    assert.ok(handles().length < listening.length, 'closing the plugin released its sockets');
    assert.equal(handles().length, before.length + 1, handles().join());
    await served.close();
  }
  await settle(() => handles().length <= before.length);
  assert.deepEqual(handles(), before);
  dir.remove();
});
