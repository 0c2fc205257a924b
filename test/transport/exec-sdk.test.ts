// The exec transport against a child written with the plugwire SDK (serveStdio), run with
// `node test/fixtures/sdk-stdio-plugin.js` (compiled; through ts-node when the tests run from source).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { ErrorCode } from '../../src/errors.js';
import { ExecPlugin } from '../../src/transport/exec/index.js';
import {
  callContext,
  eventually,
  processExists,
  recordingLogger,
} from '../fixtures/callContext.js';
import { ROOT, nodeScript } from '../support/scripts.js';

const NODE_ARGS = [
  '--no-warnings',
  ...nodeScript(new URL('../fixtures/sdk-stdio-plugin.ts', import.meta.url)),
];
// When the child runs through ts-node, it only transpiles (no type check), as in the test runner.
const CHILD_ENV = ['TS_NODE_TRANSPILE_ONLY=true'];

describe('exec transport with the SDK child', () => {
  const logger = recordingLogger();
  const config = pluginConfig({
    name: 'sdk-exec',
    transport: 'exec',
    executable: process.execPath,
    args: NODE_ARGS,
    env: CHILD_ENV,
    workDir: ROOT,
  });
  config.connection.maxResponseBytes = 16 * 1024 * 1024;
  config.startup.timeout = 60_000;
  const plugin = new ExecPlugin(config, { codec: jsonCodec, logger });

  before(() => plugin.start(AbortSignal.timeout(60_000)));
  after(() => plugin.close());

  test('a call round-trips through serveStdio with its request id', async () => {
    const ctx = callContext();
    assert.deepEqual(await plugin.execute({ op: 'echo', value: [1, 'ü'] }, ctx), {
      value: [1, 'ü'],
      requestId: ctx.requestId,
    });
  });

  test('health and info come from the SDK options', async () => {
    const health = await plugin.health(AbortSignal.timeout(5_000));
    assert.deepEqual([health.status, health.message], ['healthy', 'all good']);
    assert.deepEqual(await plugin.info(), { name: 'sdk-plugin', version: '1.2.3' });
  });

  test('payloads of 1 byte, 64 KiB + 1 and 10 MiB travel both ways', async () => {
    for (const bytes of [1, 64 * 1024 + 1, 10 * 1024 * 1024]) {
      const sized = (await plugin.execute({ op: 'size', bytes }, callContext())) as string;
      assert.equal(sized.length, bytes);
      const echoed = (await plugin.execute(
        { op: 'echo', value: 'e'.repeat(bytes) },
        callContext(),
      )) as { value: string };
      assert.equal(echoed.value.length, bytes);
    }
  });

  test('100 concurrent calls complete, each with its own reply', async () => {
    const calls = Array.from({ length: 100 }, (_, i) =>
      plugin.execute({ op: 'sleep-echo', value: i, ms: (i * 11) % 30 }, callContext()),
    );
    const replies = (await Promise.all(calls)) as Array<{ value: number }>;
    assert.deepEqual(
      replies.map((r) => r.value),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('applicationError thrown by the handler reaches the host as PLUGIN_1208', async () => {
    await assert.rejects(plugin.execute({ op: 'fail' }, callContext()), {
      code: ErrorCode.ApplicationError,
      message: 'card declined',
      retryable: false,
    });
  });

  test("a call the caller aborts reaches the SDK child as a cancel: the handler's signal aborts", async () => {
    const controller = new AbortController();
    const call = callContext({ signal: controller.signal });
    const pending = plugin.execute({ op: 'wait-abort' }, call);
    // At once: the cancel follows the request down the same pipe, so it can never overtake it.
    controller.abort(new Error('caller gave up'));
    await assert.rejects(pending, { code: ErrorCode.CallAborted });
    const line = `aborted ${call.requestId}: the host cancelled the request`;
    await eventually(() => logger.entries.some((e) => e.message.includes(line)), 10_000, line);
  });

  test('what the plugin logs to stderr reaches the host logger', async () => {
    await eventually(() =>
      logger.entries.some(
        (e) => e.message === 'sdk plugin serving' && e.fields.plugin === 'sdk-exec',
      ),
    );
  });
});

test('an SDK child finishes its in-flight work and exits by itself when its stdin closes', async () => {
  const child = spawn(process.execPath, NODE_ARGS, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const received: Array<Record<string, unknown>> = [];
  const handshake = new Promise<void>((resolve) =>
    lines.on('line', (line) => {
      received.push(JSON.parse(line));
      if (received.length === 1) resolve();
    }),
  );
  await handshake;
  assert.deepEqual(received[0], {
    type: 'handshake',
    protocol: 1,
    name: 'sdk-plugin',
    version: '1.2.3',
  });
  child.stdin.write(
    `${JSON.stringify({ type: 'execute', request_id: 'last', data: { op: 'sleep-echo', value: 'done', ms: 300 } })}\n`,
  );
  child.stdin.end();
  assert.equal(await exited, 0);
  assert.equal(processExists(child.pid!), false);
  assert.deepEqual(received[1], {
    type: 'execute',
    request_id: 'last',
    success: true,
    data: { value: 'done', requestId: 'last' },
  });
});

test('close() lets the SDK child finish its in-flight calls before it exits', async () => {
  const config = pluginConfig({
    name: 'sdk-close',
    transport: 'exec',
    executable: process.execPath,
    args: NODE_ARGS,
    env: CHILD_ENV,
    workDir: ROOT,
  });
  config.startup.timeout = 60_000;
  const plugin = new ExecPlugin(config, { codec: jsonCodec, logger: recordingLogger() });
  await plugin.start(AbortSignal.timeout(60_000));
  const pid = plugin.pid!;
  const inFlight = plugin.execute({ op: 'sleep-echo', value: 'kept', ms: 300 }, callContext());
  await new Promise((resolve) => setTimeout(resolve, 50));
  await plugin.close();
  assert.deepEqual(((await inFlight) as { value: string }).value, 'kept');
  assert.equal(processExists(pid), false);
});
