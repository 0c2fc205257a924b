import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { ErrorCode } from '../../errors.js';
import type { Logger } from '../../types.js';
import { Channel, type ChannelOptions } from './Channel.js';
import { ExecuteReplies, executeCall } from './calls.js';
import { connectionError } from './errors.js';
import { jsonCodec } from '../../codec.js';
import { callContext } from '../../../test/support/context.js';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => {};
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (_f, m) => warnings.push(m ?? ''),
  };
}

/** A channel writing to `output` with the tests' defaults; `options` overrides them. */
function channelTo(output: Writable, options: Partial<ChannelOptions> = {}): Channel {
  return new Channel({
    plugin: 'p',
    logger: recordingLogger(),
    output,
    maxLineBytes: 1024,
    source: 'test',
    ...options,
  });
}

function channel(maxLineBytes = 1024) {
  const output = new PassThrough();
  const written: unknown[] = [];
  output.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) written.push(JSON.parse(line));
  });
  const logger = recordingLogger();
  const ch = channelTo(output, { logger, maxLineBytes });
  const reply = (value: unknown): void => ch.push(Buffer.from(`${JSON.stringify(value)}\n`));
  return { ch, written, logger, reply };
}

test('a request is written as one JSON line and settled by the reply with its id', async () => {
  const { ch, written, reply } = channel();
  const pending = ch.request({ type: 'ping', request_id: 'r1' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(written, [{ type: 'ping', request_id: 'r1' }]);
  reply({ type: 'ping', request_id: 'r1', success: true });
  assert.deepEqual(await pending, { type: 'ping', request_id: 'r1', success: true });
});

test('a non-JSON line and a reply for an unknown id are logged and skipped, never taking a reply', async () => {
  const { ch, logger, reply } = channel();
  const pending = ch.request({ type: 'ping', request_id: 'r1' });
  ch.push(Buffer.from('hello from a print statement\n'));
  reply({ request_id: 'nobody', success: true });
  reply({ request_id: 'r1', success: true, data: 1 });
  assert.equal((await pending).data, 1);
  assert.deepEqual(logger.warnings, [
    'skipped a line that is not JSON',
    'skipped a reply for an unknown request_id',
  ]);
});

test('a late reply to an aborted call is dropped without a warning', async () => {
  const { ch, logger, reply } = channel();
  const controller = new AbortController();
  const pending = ch.request({ type: 'ping', request_id: 'r1' }, controller.signal);
  controller.abort();
  await assert.rejects(pending, { code: ErrorCode.CallAborted });
  reply({ request_id: 'r1', success: true });
  assert.deepEqual(logger.warnings, []);
});

test('a reply over maxLineBytes fails its own call with PLUGIN_1210 and the next reply still works', async () => {
  const { ch, reply } = channel(64);
  const big = ch.request({ type: 'execute', request_id: 'big' });
  const small = ch.request({ type: 'execute', request_id: 'small' });
  reply({ request_id: 'big', success: true, data: 'z'.repeat(500) });
  await assert.rejects(big, { code: ErrorCode.ResponseTooLarge, retryable: false });
  reply({ request_id: 'small', success: true, data: 'ok' });
  assert.equal((await small).data, 'ok');
});

test('close fails every call in flight and refuses new ones', async () => {
  const { ch } = channel();
  const pending = ch.request({ type: 'ping', request_id: 'r1' });
  ch.close(new Error('link down'));
  await assert.rejects(pending, /link down/);
  await assert.rejects(ch.request({ type: 'ping', request_id: 'r2' }), /link down/);
});

test('lines wait for drain when the output is full, and are written in order', async () => {
  const chunks: string[] = [];
  let release: (() => void) | undefined;
  const output = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, callback) {
      chunks.push(chunk.toString());
      release = callback;
    },
  });
  const ch = channelTo(output);
  const calls = [ch.request({ type: 'ping', request_id: 'a' })];
  await new Promise((r) => process.nextTick(r));
  assert.equal(chunks.length, 1, 'the line went out at the end of its tick');
  calls.push(...['b', 'c'].map((id) => ch.request({ type: 'ping', request_id: id })));
  await new Promise((r) => setImmediate(r));
  assert.equal(chunks.length, 1, 'the next lines wait while the output is full');
  const lines = (): string[] => chunks.join('').split('\n').filter(Boolean);
  while (lines().length < 3) {
    const next = release!;
    release = undefined;
    next();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(
    lines().map((c) => JSON.parse(c).request_id),
    ['a', 'b', 'c'],
  );
  calls.push(ch.request({ type: 'ping', request_id: 'd' }));
  release!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(JSON.parse(lines()[3]!).request_id, 'd', 'writing goes on once drained');
  release!();
  for (const id of ['a', 'b', 'c', 'd'])
    ch.push(Buffer.from(`{"request_id":"${id}","success":true}\n`));
  await Promise.all(calls);
});

test('a request that cannot be written as JSON rejects, not retryable, and is not left waiting', async () => {
  const { ch, written } = channel();
  const call = ch.request({ type: 'execute', request_id: 'big', data: 10n });
  await assert.rejects(call, { code: ErrorCode.PluginExecutionFailed, retryable: false });
  assert.equal(ch.inFlight, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(written, []);
});

test('a call giving up while a reply line is merely cut by a chunk boundary is not a stall', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  let stalls = 0;
  const output = new PassThrough();
  output.resume();
  const ch = channelTo(output, { onStall: () => stalls++ });
  const first = new AbortController();
  const a = ch.request({ type: 'ping', request_id: 'a' }, first.signal);
  ch.push(Buffer.from('{"request_id":"b","succ'));
  first.abort();
  await assert.rejects(a);
  assert.equal(stalls, 0, 'a fresh partial line is not a stall');
  // The same half line, still unfinished STALL_AFTER_MS later: a stall.
  const second = new AbortController();
  const b = ch.request({ type: 'ping', request_id: 'c' }, second.signal);
  t.mock.timers.tick(1_000);
  second.abort();
  await assert.rejects(b);
  assert.equal(stalls, 1);
});

test('the lines of one tick leave in one write, in order, a cancel after its request', async () => {
  const chunks: string[] = [];
  const output = new Writable({
    write(chunk: Buffer, _enc, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const ch = channelTo(output);
  const controller = new AbortController();
  const a = ch.request({ type: 'ping', request_id: 'a' }, controller.signal);
  const b = ch.request({ type: 'ping', request_id: 'b' });
  controller.abort();
  await assert.rejects(a, { code: ErrorCode.CallAborted });
  const c = ch.request({ type: 'ping', request_id: 'c' });
  assert.equal(chunks.length, 0, 'nothing is written before the end of the tick');
  await new Promise((r) => setImmediate(r));
  assert.equal(chunks.length, 1, "the tick's lines leave in one write");
  assert.deepEqual(
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; request_id: string })
      .map((line) => `${line.type}:${line.request_id}`),
    ['ping:a', 'ping:b', 'cancel:a', 'ping:c'],
  );
  for (const id of ['b', 'c']) ch.push(Buffer.from(`{"request_id":"${id}","success":true}\n`));
  await Promise.all([b, c]);
});

test('lines batched in a tick are written before the output is ended, and none after a close', async () => {
  const chunks: string[] = [];
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const ch = channelTo(output);
  void ch.request({ type: 'ping', request_id: 'a' });
  void ch.request({ type: 'ping', request_id: 'b' });
  ch.writeBatch();
  output.end();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(chunks.join('').split('\n').filter(Boolean), [
    '{"type":"ping","request_id":"a"}',
    '{"type":"ping","request_id":"b"}',
  ]);

  const closed = channel();
  const first = closed.ch.request({ type: 'ping', request_id: 'y' });
  const late = closed.ch.request({ type: 'ping', request_id: 'z' });
  closed.ch.close(new Error('link down'));
  await assert.rejects(first, /link down/);
  await assert.rejects(late, /link down/);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(closed.written, [], 'a closed channel writes nothing batched');
});

test('when the link closes, written calls fail as sent and calls still queued as not sent', async () => {
  const output = new Writable({ highWaterMark: 1, write: () => undefined }); // never drains
  const ch = channelTo(output);
  const written = ch.request({ type: 'execute', request_id: 'w' });
  await new Promise((r) => setImmediate(r)); // the tick's batch is written: the output is full
  const queued = ch.request({ type: 'execute', request_id: 'q' });
  ch.close(connectionError('p', 'plugin process exited'));
  const [first, second] = await Promise.allSettled([written, queued]);
  assert.equal((first as PromiseRejectedResult).reason.phase, 'sent');
  assert.equal((second as PromiseRejectedResult).reason.phase, 'not-sent');
  const after = await ch.request({ type: 'execute', request_id: 'late' }).catch((e: unknown) => e);
  assert.equal((after as { phase: string }).phase, 'not-sent');
});

test('the execute envelope carries the attempt number', async () => {
  const { ch, written } = channel();
  void executeCall(
    ch,
    new ExecuteReplies('p', jsonCodec),
    { a: 1 },
    { ...callContext(), attempt: 3 },
  ).catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal((written[0] as { attempt: number }).attempt, 3);
  ch.close(new Error('done'));
});

test('a call batched in this tick when the link closes fails as not sent', async () => {
  const { ch } = channel();
  const batched = ch.request({ type: 'execute', request_id: 'b' });
  ch.close(connectionError('p', 'plugin process exited'));
  const error = await batched.catch((e: unknown) => e);
  assert.equal((error as { phase: string }).phase, 'not-sent');
});
