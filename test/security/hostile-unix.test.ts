// Issue 10: a Unix plugin that stalls part-way through a reply line must not keep taking calls
// it can never answer; serveUnix's socket is not open to every user.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { ErrorCode, isPluginError } from '../../src/errors.js';
import { serveUnix } from '../../src/sdk/unix.js';
import { UnixPlugin } from '../../src/transport/unix/index.js';
import { tempDir } from '../support/tmp.js';
import { callContext, recordingLogger } from '../fixtures/callContext.js';

const tmp = tempDir('plugwire-hostile-unix-');
const sockets = new Set<Socket>();
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const cleanup of cleanups) await cleanup();
  tmp.remove();
});

test('a connection stuck behind a half-written reply line is retired; the next call gets a fresh one', async () => {
  const path = join(tmp.dir, 'slowloris.sock');
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    createInterface({ input: socket }).on('line', (line) => {
      const request = JSON.parse(line) as { request_id: string; data?: { op?: string } };
      if (request.data?.op === 'stall') {
        // Starts a reply line and never ends it.
        socket.write(`{"request_id":${JSON.stringify(request.request_id)},"success":tr`);
        return;
      }
      socket.write(
        `${JSON.stringify({ request_id: request.request_id, success: true, data: 'ok' })}\n`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const logger = recordingLogger();
  const config = pluginConfig({ name: 'slowloris', transport: 'unix', endpoint: `unix://${path}` });
  config.connection.maxConnections = 1;
  const plugin = new UnixPlugin(config, path, { codec: jsonCodec, logger });
  cleanups.push(() => plugin.close());

  // Past STALL_AFTER_MS (1 s): a line cut by a chunk boundary is not a stall, this one is.
  const signal = AbortSignal.timeout(1_500);
  await assert.rejects(plugin.execute({ op: 'stall' }, callContext({ signal })), (error) => {
    return isPluginError(error) && error.code === ErrorCode.PluginTimeout;
  });
  assert.equal(connections, 1);
  // Before the fix this call went to the stuck socket and waited for its whole deadline.
  const next = AbortSignal.timeout(10_000);
  assert.equal(await plugin.execute({ op: 'echo' }, callContext({ signal: next })), 'ok');
  assert.equal(connections, 2, 'the second call used a new connection');
  assert.ok(logger.entries.some((e) => /retired a connection/.test(e.message)));
});

test('serveUnix creates its socket owner-only by default, or with the mode given', async () => {
  const handler = async (req: unknown) => req;
  const first = await serveUnix(handler, { path: join(tmp.dir, 'default.sock') });
  cleanups.push(() => first.close());
  assert.equal(statSync(first.endpoint).mode & 0o777, 0o600);
  const grouped = await serveUnix(handler, { path: join(tmp.dir, 'group.sock'), mode: 0o660 });
  cleanups.push(() => grouped.close());
  assert.equal(statSync(grouped.endpoint).mode & 0o777, 0o660);
  await assert.rejects(
    serveUnix(handler, { path: join(tmp.dir, 'bad.sock'), mode: 0o1777 }),
    RangeError,
  );
});
