// The Unix socket transport against a hand-written server that knows only docs/protocol/unix.md:
// a plain net server reading and writing JSON lines, misbehaving on request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { ErrorCode } from '../../src/errors.js';
import { unixFactory } from '../../src/transport/unix/index.js';
import type { UnixPlugin } from '../../src/transport/unix/index.js';
import { tempDir } from '../support/tmp.js';
import { callContext, eventually, recordingLogger } from '../fixtures/callContext.js';

const tmp = tempDir('plugwire-unix-raw-');
const path = join(tmp.dir, 'raw.sock');
const seen: Array<Record<string, any>> = [];
const sockets = new Set<Socket>();
let server: Server;
const logger = recordingLogger();
let client: UnixPlugin;

// Each request's data.op says how to answer.
function answer(socket: Socket, request: Record<string, any>): void {
  seen.push(request);
  const reply = (fields: Record<string, unknown>): void => {
    socket.write(
      `${JSON.stringify({ type: request.type, request_id: request.request_id, ...fields })}\n`,
    );
  };
  if (request.type === 'health') return reply({ success: true });
  if (request.type === 'info')
    return reply({ success: true, data: { name: 'raw-unix', author: 'ops team' } });
  // Like a plugin written before `cancel` existed: any type it does not know gets an error line.
  if (request.type === 'cancel') return reply({ success: false, error: 'unknown request type' });
  const op = request.data?.op;
  switch (op) {
    case 'delay':
      setTimeout(() => reply({ success: true, data: request.data.value }), request.data.ms);
      return;
    case 'garbage':
      socket.write('this is not json\n');
      socket.write('{"request_id": 42, "broken"\n');
      socket.write(
        `${JSON.stringify({ request_id: 'not-a-pending-id', success: true, data: 'stolen' })}\n`,
      );
      socket.write('[1,2,3]\n');
      return reply({ success: true, data: 'mine' });
    case 'split':
      // One reply written in three pieces, the cut falling inside a multi-byte character.
      {
        const bytes = Buffer.from(
          `${JSON.stringify({ request_id: request.request_id, success: true, data: 'añb🙂c' })}\n`,
        );
        socket.write(bytes.subarray(0, bytes.length - 6));
        setTimeout(() => socket.write(bytes.subarray(bytes.length - 6, bytes.length - 4)), 10);
        setTimeout(() => socket.write(bytes.subarray(bytes.length - 4)), 20);
      }
      return;
    case 'hangup':
      socket.destroy();
      return;
    case 'echo-fields':
      return reply({
        success: true,
        data: { timeout_ms: request.timeout_ms, headers: request.headers },
      });
    default:
      return reply({ success: false, error: `unknown op ${op}` });
  }
}

before(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) =>
      answer(socket, JSON.parse(line)),
    );
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const config = pluginConfig({ name: 'raw', transport: 'unix', socketPath: path });
  config.connection.maxConnections = 1;
  client = unixFactory.create(config, { codec: jsonCodec, logger }) as UnixPlugin;
});

after(async () => {
  await client.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  tmp.remove();
});

test('replies sent out of order are matched to their calls by request_id', async () => {
  const results = await Promise.all([
    client.execute({ op: 'delay', value: 'slow', ms: 60 }, callContext()),
    client.execute({ op: 'delay', value: 'fast', ms: 1 }, callContext()),
    client.execute({ op: 'delay', value: 'middle', ms: 30 }, callContext()),
  ]);
  assert.deepEqual(results, ['slow', 'fast', 'middle']);
});

test('lines that are not JSON, not objects, or for an unknown id are skipped and logged', async () => {
  logger.entries.length = 0;
  assert.equal(await client.execute({ op: 'garbage' }, callContext()), 'mine');
  const warnings = logger.entries.filter((e) => e.level === 'warn').map((e) => e.message);
  assert.deepEqual(warnings, [
    'skipped a line that is not JSON',
    'skipped a line that is not JSON',
    'skipped a reply for an unknown request_id',
    'skipped a JSON line that is not an object',
  ]);
  assert.ok(logger.entries.every((e) => e.fields.plugin === 'raw'));
});

test('a reply split across writes, inside a UTF-8 character, is read whole', async () => {
  assert.equal(await client.execute({ op: 'split' }, callContext()), 'añb🙂c');
});

test('the request carries timeout_ms (time left to the deadline) and the headers', async () => {
  const reply = (await client.execute(
    { op: 'echo-fields' },
    callContext({ deadline: Date.now() + 4_000, headers: { traceparent: '00-abc-def-01' } }),
  )) as { timeout_ms: number; headers: Record<string, string> };
  assert.ok(reply.timeout_ms > 3_000 && reply.timeout_ms <= 4_000, `got ${reply.timeout_ms}`);
  assert.deepEqual(reply.headers, { traceparent: '00-abc-def-01' });
  const request = seen.at(-1)!;
  assert.equal(request.type, 'execute');
  assert.equal(typeof request.request_id, 'string');
});

test('a server that hangs up fails the calls in flight retryably, and the next call reconnects', async () => {
  const waiting = client.execute({ op: 'delay', value: 'never', ms: 1_500 }, callContext());
  await assert.rejects(client.execute({ op: 'hangup' }, callContext()), {
    code: ErrorCode.PluginConnectionFailed,
    retryable: true,
  });
  await assert.rejects(waiting, { code: ErrorCode.PluginConnectionFailed, retryable: true });
  assert.equal(
    await client.execute({ op: 'delay', value: 'again', ms: 1 }, callContext()),
    'again',
  );
});

test('a health reply with only success:true reads as healthy; info falls back sensibly', async () => {
  assert.equal((await client.health(AbortSignal.timeout(5_000))).status, 'healthy');
  // go-plugins' PluginInfo fields, `author` included.
  assert.deepEqual(await client.info(), { name: 'raw-unix', author: 'ops team' });
});

/** The cancel lines the server received for `id`. */
function cancelsFor(id: string): Array<Record<string, any>> {
  return seen.filter((r) => r.type === 'cancel' && r.request_id === id);
}

test('a call aborted in flight sends one cancel naming its request_id', async () => {
  const controller = new AbortController();
  const call = callContext({ signal: controller.signal });
  const pending = client.execute({ op: 'delay', value: 'late', ms: 300 }, call);
  await eventually(() => seen.some((r) => r.request_id === call.requestId), 5_000, 'the request');
  controller.abort(new Error('caller gave up'));
  await assert.rejects(pending, { code: ErrorCode.CallAborted });
  await eventually(() => cancelsFor(call.requestId).length > 0, 5_000, 'the cancel');
  assert.deepEqual(cancelsFor(call.requestId), [{ type: 'cancel', request_id: call.requestId }]);
  controller.abort(); // a second abort sends nothing more
  await new Promise((resolve) => setTimeout(resolve, 400)); // the late reply and the answer to the cancel come back
  assert.equal(cancelsFor(call.requestId).length, 1);
});

test('a plugin that answers cancel with an error line breaks nothing, even for a reused id', async () => {
  logger.entries.length = 0;
  const controller = new AbortController();
  const first = callContext({ signal: controller.signal });
  const pending = client.execute({ op: 'delay', value: 'late', ms: 100 }, first);
  await eventually(() => seen.some((r) => r.request_id === first.requestId), 5_000, 'the request');
  controller.abort();
  await assert.rejects(pending, { code: ErrorCode.CallAborted });
  // The caller reuses its request id at once: the error answer to the cancel and the late reply
  // of the first call are both in the pipe, and neither may settle this call.
  const again = callContext({ requestId: first.requestId });
  assert.equal(await client.execute({ op: 'delay', value: 'mine', ms: 200 }, again), 'mine');
  assert.equal(cancelsFor(first.requestId).length, 1);
  const warnings = logger.entries.filter((e) => e.level === 'warn');
  assert.deepEqual(warnings, []);
});

test('a call whose reply came first, or that was aborted before it was sent, sends no cancel', async () => {
  const controller = new AbortController();
  const done = callContext({ signal: controller.signal });
  assert.equal(await client.execute({ op: 'delay', value: 'ok', ms: 1 }, done), 'ok');
  controller.abort();
  const early = new AbortController();
  early.abort();
  const never = callContext({ signal: early.signal });
  await assert.rejects(client.execute({ op: 'delay', value: 'x', ms: 1 }, never), {
    code: ErrorCode.CallAborted,
  });
  // A later call's round trip: any cancel would have been written before its request.
  assert.equal(await client.execute({ op: 'delay', value: 'next', ms: 1 }, callContext()), 'next');
  assert.deepEqual(cancelsFor(done.requestId), []);
  assert.deepEqual(cancelsFor(never.requestId), []);
  assert.equal(seen.filter((r) => r.request_id === never.requestId).length, 0);
});

test('a call whose deadline passes in flight sends a cancel', async () => {
  // The manager fires the attempt's cancellation when the deadline passes; do the same here.
  const call = callContext({ signal: AbortSignal.timeout(100) });
  await assert.rejects(client.execute({ op: 'delay', value: 'late', ms: 400 }, call), {
    code: ErrorCode.PluginTimeout,
  });
  await eventually(() => cancelsFor(call.requestId).length === 1, 5_000, 'the cancel');
});
