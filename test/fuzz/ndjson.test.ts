// Fuzz tier (issue 10): hostile byte streams into the newline-JSON readers, in process (the
// Channel both transports share) and through a real Unix socket and a real exec child.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { Channel } from '../../src/transport/ndjson/Channel.js';
import { ExecuteReplies } from '../../src/transport/ndjson/calls.js';
import { connectionError } from '../../src/transport/ndjson/errors.js';
import { ExecPlugin } from '../../src/transport/exec/index.js';
import { UnixPlugin } from '../../src/transport/unix/index.js';
import { callContext, recordingLogger } from '../fixtures/callContext.js';
import { tempDir } from '../support/tmp.js';
import { checkLog, checkOutcome, fuzzOptions, hostileStream, trapUncaught } from './support.js';

const tmp = tempDir('plugwire-fuzz-');
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  tmp.remove();
});

// Cuts `bytes` at the given offsets, so lines and characters straddle chunks.
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of at) {
    out.push(bytes.subarray(start, cut));
    start = cut;
  }
  out.push(bytes.subarray(start));
  return out;
}

test('the Channel: any byte stream, cut anywhere, settles every call with a value or a PluginError', async () => {
  const trap = trapUncaught();
  try {
    await fc.assert(
      fc.asyncProperty(
        hostileStream,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 64, max: 4096 }),
        async (stream, cuts, maxLineBytes) => {
          const logger = recordingLogger();
          const output = new PassThrough();
          output.resume();
          const channel = new Channel({
            plugin: 'fuzz',
            logger,
            output,
            maxLineBytes,
            source: 'stdout',
          });
          const replies = new ExecuteReplies('fuzz', jsonCodec);
          const calls = ['a', 'b', 'c'].map((id) =>
            channel.request({ type: 'execute', request_id: id, data: null }, undefined, replies),
          );
          // Each call's id in turn stands for "$ID".
          for (const id of ['a', 'b', 'c']) {
            const bytes = Buffer.from(stream.toString('latin1').replaceAll('$ID', id), 'latin1');
            for (const chunk of chunks(bytes, cuts)) channel.push(chunk);
          }
          channel.end();
          channel.close(connectionError('fuzz', 'stream ended'));
          for (const outcome of await Promise.allSettled(calls)) checkOutcome(outcome);
          checkLog(logger.entries);
        },
      ),
      fuzzOptions(300),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(trap.errors, []);
  } finally {
    trap.stop();
  }
});

test('a real Unix socket: a server writing hostile bytes never crashes the host', async () => {
  const path = join(tmp.dir, 'fuzz.sock');
  let current = Buffer.alloc(0);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    createInterface({ input: socket }).on('line', (line) => {
      const { request_id: id } = JSON.parse(line) as { request_id: string };
      const bytes = current.toString('latin1').replaceAll('$ID', id);
      socket.write(Buffer.from(bytes, 'latin1'));
      socket.write(`\n${JSON.stringify({ request_id: id, success: true, data: 'final' })}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  const logger = recordingLogger();
  const config = pluginConfig({ name: 'fuzz-unix', transport: 'unix', endpoint: `unix://${path}` });
  const plugin = new UnixPlugin(config, path, { codec: jsonCodec, logger });
  cleanups.push(() => plugin.close());
  const trap = trapUncaught();
  try {
    await fc.assert(
      fc.asyncProperty(hostileStream, async (stream) => {
        current = stream;
        const outcome = await Promise.allSettled([
          plugin.execute({}, callContext({ signal: AbortSignal.timeout(5_000) })),
        ]);
        checkOutcome(outcome[0]!);
      }),
      fuzzOptions(40),
    );
    checkLog(logger.entries);
    assert.deepEqual(trap.errors, []);
  } finally {
    trap.stop();
  }
});

test('a real exec child: hostile stdout never crashes the host, every call settles', async () => {
  const logger = recordingLogger();
  const config = pluginConfig({
    name: 'fuzz-exec',
    transport: 'exec',
    executable: process.execPath,
    args: [fileURLToPath(new URL('../fixtures/echo-bytes-exec-plugin.mjs', import.meta.url))],
  });
  const plugin = new ExecPlugin(config, { codec: jsonCodec, logger });
  cleanups.push(() => plugin.close());
  await plugin.start(AbortSignal.timeout(10_000));
  const trap = trapUncaught();
  try {
    await fc.assert(
      fc.asyncProperty(hostileStream, async (stream) => {
        const outcome = await Promise.allSettled([
          plugin.execute(
            { bytes: stream.toString('base64') },
            callContext({ signal: AbortSignal.timeout(5_000) }),
          ),
        ]);
        checkOutcome(outcome[0]!);
      }),
      fuzzOptions(40),
    );
    checkLog(logger.entries);
    assert.deepEqual(trap.errors, []);
  } finally {
    trap.stop();
  }
});
