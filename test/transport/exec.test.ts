// The exec transport against a hand-written child (test/fixtures/raw-exec-plugin.mjs) that knows
// only docs/protocol/exec.md: a plain node script reading and writing JSON lines.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import type { PluginConfig } from '../../src/config/types.js';
import { ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/logger.js';
import { ExecPlugin, execFactory } from '../../src/transport/exec/index.js';
import type { ExecTimings } from '../../src/transport/exec/index.js';
import type { Logger } from '../../src/types.js';
import {
  callContext,
  eventually,
  processExists,
  recordingLogger,
} from '../fixtures/callContext.js';
import { tempDir } from '../support/tmp.js';

const RAW = fileURLToPath(new URL('../fixtures/raw-exec-plugin.mjs', import.meta.url));
const FAST: Partial<ExecTimings> = {
  initialMs: 20,
  maxMs: 200,
  stdinGraceMs: 500,
  termGraceMs: 500,
};

const plugins: ExecPlugin[] = [];
after(async () => {
  await Promise.all(plugins.map((p) => p.close()));
});

function raw(
  overrides: Partial<PluginConfig> = {},
  logger: Logger = silentLogger,
  timings: Partial<ExecTimings> = FAST,
): ExecPlugin {
  const config = pluginConfig({
    name: 'raw-exec',
    transport: 'exec',
    executable: process.execPath,
    args: [RAW],
    ...overrides,
  });
  const plugin = new ExecPlugin(config, { codec: jsonCodec, logger }, timings);
  plugins.push(plugin);
  return plugin;
}

describe('a running raw exec plugin', () => {
  const logger = recordingLogger();
  const plugin = raw(
    {
      connection: {
        ...pluginConfig({ name: 'x', transport: 'exec' }).connection,
        maxResponseBytes: 16 * 1024 * 1024,
      },
    },
    logger,
  );

  test('start() waits for the handshake, then calls round-trip', async () => {
    await plugin.start(AbortSignal.timeout(10_000));
    assert.ok(plugin.pid! > 0);
    assert.deepEqual(await plugin.execute({ op: 'echo', value: { a: 'é' } }, callContext()), {
      a: 'é',
    });
    assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
    assert.deepEqual(await plugin.info(), { name: 'raw', version: '0.0.1' });
  });

  test('replies of 1 byte, 64 KiB + 1 and 10 MiB arrive whole', async () => {
    for (const bytes of [1, 64 * 1024 + 1, 10 * 1024 * 1024]) {
      const reply = (await plugin.execute({ op: 'size', bytes }, callContext())) as string;
      assert.equal(reply.length, bytes);
      const echoed = (await plugin.execute(
        { op: 'echo', value: 'q'.repeat(bytes) },
        callContext(),
      )) as string;
      assert.equal(echoed.length, bytes);
    }
  });

  test('stray prints, broken JSON and replies for other ids are skipped, never eating a reply', async () => {
    logger.entries.length = 0;
    const results = await Promise.all([
      plugin.execute({ op: 'noisy' }, callContext()),
      plugin.execute({ op: 'echo', value: 'neighbour', sleep: 5 }, callContext()),
    ]);
    assert.deepEqual(results, ['right', 'neighbour']);
    const warnings = logger.entries.filter((e) => e.level === 'warn').map((e) => e.message);
    assert.deepEqual(warnings, [
      'skipped a line that is not JSON',
      'skipped a line that is not JSON',
      'skipped a reply for an unknown request_id',
    ]);
  });

  test('100 concurrent calls on one child complete, each with its own reply', async () => {
    const calls = Array.from({ length: 100 }, (_, i) =>
      plugin.execute({ op: 'echo', value: i, sleep: (i * 13) % 25 }, callContext()),
    );
    assert.deepEqual(
      await Promise.all(calls),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('success:false is PLUGIN_1208; with retryable:true it is a retryable PLUGIN_1203', async () => {
    await assert.rejects(plugin.execute({ op: 'fail' }, callContext()), {
      code: ErrorCode.ApplicationError,
      message: 'insufficient funds',
      plugin: 'raw-exec',
    });
    await assert.rejects(plugin.execute({ op: 'busy' }, callContext()), {
      code: ErrorCode.PluginExecutionFailed,
      retryable: true,
    });
  });

  test('stderr lines reach the logger with the plugin name', async () => {
    await plugin.execute({ op: 'stderr', value: 'disk almost full' }, callContext());
    await eventually(() => logger.entries.some((e) => e.message === 'error: disk almost full'));
    const entry = logger.entries.find((e) => e.message === 'error: disk almost full')!;
    assert.equal(entry.level, 'warn');
    assert.equal(entry.fields.plugin, 'raw-exec');
    assert.equal(entry.fields.stream, 'stderr');
  });

  test('the request carries timeout_ms, the time left to the deadline', async () => {
    const left = (await plugin.execute(
      { op: 'timeout' },
      callContext({ deadline: Date.now() + 2_000 }),
    )) as number;
    assert.ok(left > 1_000 && left <= 2_000, `got ${left}`);
  });

  test('an aborted call rejects at once; its late reply is dropped quietly', async () => {
    logger.entries.length = 0;
    const controller = new AbortController();
    const call = plugin.execute(
      { op: 'echo', value: 'late', sleep: 100 },
      callContext({ signal: controller.signal }),
    );
    controller.abort();
    await assert.rejects(call, { code: ErrorCode.CallAborted });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(
      logger.entries.filter((e) => e.level === 'warn'),
      [],
    );
    assert.equal(await plugin.execute({ op: 'echo', value: 'next' }, callContext()), 'next');
  });

  test('after close() the child is gone and calls are refused', async () => {
    const pid = plugin.pid!;
    await plugin.close();
    assert.equal(processExists(pid), false);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    await plugin.close();
    // As on the HTTP and gRPC transports: PLUGIN_1215, retryable elsewhere, never sent.
    await assert.rejects(plugin.execute({ op: 'echo' }, callContext()), {
      code: ErrorCode.PluginClosed,
      retryable: true,
      phase: 'not-sent',
    });
    assert.equal((await plugin.health(AbortSignal.timeout(1_000))).status, 'offline');
  });
});

test('a call made while close() stops the child is refused with PLUGIN_1215, not sent to it', async () => {
  const plugin = raw();
  await plugin.start(AbortSignal.timeout(10_000));
  assert.equal(await plugin.execute({ op: 'echo', value: 'ok' }, callContext()), 'ok');
  const closing = plugin.close();
  await assert.rejects(plugin.execute({ op: 'echo' }, callContext()), {
    code: ErrorCode.PluginClosed,
    retryable: true,
    phase: 'not-sent',
  });
  await closing;
});

test('a reply larger than maxResponseBytes fails that call with PLUGIN_1210 and the next call works', async () => {
  const base = pluginConfig({ name: 'x', transport: 'exec' }).connection;
  const plugin = raw({ connection: { ...base, maxResponseBytes: 64 * 1024 } });
  await plugin.start(AbortSignal.timeout(10_000));
  await assert.rejects(plugin.execute({ op: 'size', bytes: 1024 * 1024 }, callContext()), {
    code: ErrorCode.ResponseTooLarge,
  });
  assert.equal(await plugin.execute({ op: 'echo', value: 'ok' }, callContext()), 'ok');
  await plugin.close();
});

test('a child killed with SIGKILL mid-load fails in-flight calls retryably, reports offline, and is restarted', async () => {
  // The restart waits 2 s, so the checks made while it is down stay inside that window.
  const plugin = raw({}, silentLogger, { ...FAST, initialMs: 2_000, maxMs: 2_000 });
  await plugin.start(AbortSignal.timeout(10_000));
  const firstPid = plugin.pid!;
  const inFlight = Array.from({ length: 20 }, (_, i) =>
    plugin.execute({ op: 'echo', value: i, sleep: 5_000 }, callContext()),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.kill(firstPid, 'SIGKILL');
  const outcomes = await Promise.allSettled(inFlight);
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'rejected');
    const error = (outcome as PromiseRejectedResult).reason;
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, true);
    assert.match(error.message, /SIGKILL/);
  }
  const health = await plugin.health(AbortSignal.timeout(1_000));
  assert.equal(health.status, 'offline');
  assert.equal(health.metadata?.signal, 'SIGKILL');
  // A call whose deadline comes before the restart fails at once, as not sent.
  await assert.rejects(
    plugin.execute({ op: 'echo', value: 'x' }, callContext({ deadline: Date.now() + 500 })),
    { code: ErrorCode.PluginConnectionFailed, retryable: true, phase: 'not-sent' },
  );
  // One whose deadline leaves room waits for the scheduled restart and is answered.
  assert.equal(await plugin.execute({ op: 'echo', value: 'waited' }, callContext()), 'waited');
  assert.notEqual(plugin.pid, firstPid);
  await eventually(() => plugin.running, 10_000, 'the restart');
  assert.equal(await plugin.execute({ op: 'echo', value: 'back' }, callContext()), 'back');
  assert.equal((await plugin.health(AbortSignal.timeout(5_000))).status, 'healthy');
  await plugin.close();
});

test('a child that exits on its own reports its exit code while down', async () => {
  const plugin = raw({}, silentLogger, { ...FAST, initialMs: 5_000 });
  await plugin.start(AbortSignal.timeout(10_000));
  await assert.rejects(plugin.execute({ op: 'crash', code: 7 }, callContext()), {
    code: ErrorCode.PluginConnectionFailed,
    retryable: true,
  });
  const health = await plugin.health(AbortSignal.timeout(1_000));
  assert.equal(health.status, 'offline');
  assert.equal(health.metadata?.exitCode, '7');
  assert.match(health.message!, /exited with code 7.*restarting in \d+ ms/);
  await plugin.close();
});

test('a child without a handshake fails start() retryably within startup.timeout, saying what it printed on stderr, and is killed', async () => {
  // Long enough for the child to print its stderr line even on a busy machine.
  const startup = { ...pluginConfig({ name: 'x', transport: 'exec' }).startup, timeout: 2_000 };
  const plugin = raw({ env: ['NO_HANDSHAKE=1'], startup });
  const starting = plugin.start(AbortSignal.timeout(10_000));
  await eventually(() => plugin.pid !== undefined, 5_000, 'the spawn');
  const pid = plugin.pid!;
  await assert.rejects(starting, (error: any) => {
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, true);
    assert.match(error.message, /no handshake within startup.timeout/);
    assert.match(error.message, /last stderr: raw plugin started/);
    return true;
  });
  assert.equal(processExists(pid), false);
  assert.equal((await plugin.health(AbortSignal.timeout(1_000))).status, 'offline');
});

test('start() honours its signal: the child is killed and the call rejects at once', async () => {
  const plugin = raw({ env: ['NO_HANDSHAKE=1'] });
  const controller = new AbortController();
  const starting = plugin.start(controller.signal);
  await eventually(() => plugin.pid !== undefined, 5_000, 'the spawn');
  const pid = plugin.pid!;
  controller.abort();
  await assert.rejects(starting, { code: ErrorCode.CallAborted });
  await eventually(() => !processExists(pid), 5_000, 'the kill');
});

test('a child announcing another protocol version is refused', async () => {
  const plugin = raw({ env: ['BAD_PROTOCOL=1'] });
  await assert.rejects(plugin.start(AbortSignal.timeout(10_000)), {
    code: ErrorCode.ExecTransportError,
    message: /protocol 99/,
  });
});

test('a missing executable fails start() with a retryable connection error', async () => {
  const plugin = raw({ executable: '/nonexistent/plugwire-plugin', args: [] });
  await assert.rejects(plugin.start(AbortSignal.timeout(10_000)), (error: any) => {
    assert.equal(error.code, ErrorCode.PluginConnectionFailed);
    assert.equal(error.retryable, true);
    assert.match(error.message, /ENOENT/);
    return true;
  });
});

test('the child sees PATH and its configured env, not the host environment', async () => {
  process.env.PLUGWIRE_HOST_ONLY = 'do-not-leak';
  try {
    const plugin = raw({ env: ['LOG_LEVEL=debug'] });
    const env = (await plugin.execute({ op: 'env' }, callContext())) as Record<string, string>;
    assert.equal(env.LOG_LEVEL, 'debug');
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.PLUGWIRE_HOST_ONLY, undefined);
    await plugin.close();
  } finally {
    delete process.env.PLUGWIRE_HOST_ONLY;
  }
});

test('the child runs in workDir', async () => {
  const dir = tempDir('plugwire-exec-cwd-');
  try {
    const plugin = raw({ workDir: dir.dir });
    assert.equal(await plugin.execute({ op: 'cwd' }, callContext()), realpathSync(dir.dir));
    await plugin.close();
  } finally {
    dir.remove();
  }
});

test('close() escalates to SIGKILL for a child that ignores stdin and SIGTERM', async () => {
  const plugin = raw({ env: ['STUBBORN=1'] }, silentLogger, {
    ...FAST,
    stdinGraceMs: 100,
    termGraceMs: 200,
  });
  await plugin.start(AbortSignal.timeout(10_000));
  const pid = plugin.pid!;
  await plugin.close();
  assert.equal(processExists(pid), false);
});

test('execFactory validates and creates exec plugins', async () => {
  assert.deepEqual(
    execFactory.validate!(pluginConfig({ name: 'x', transport: 'exec' })).map((i) => i.path),
    ['executable'],
  );
  const plugin = execFactory.create(
    pluginConfig({ name: 'f', transport: 'exec', executable: process.execPath, args: [RAW] }),
    { codec: jsonCodec, logger: silentLogger },
  );
  try {
    // Never started: the first call starts the child.
    assert.equal(await plugin.execute({ op: 'echo', value: 'lazy' }, callContext()), 'lazy');
  } finally {
    await plugin.close();
  }
});
