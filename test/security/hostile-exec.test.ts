// Issue 10: an exec plugin's bytes must never crash the host. The child is a real process
// (test/fixtures/hostile-exec-plugin.mjs) printing what a hostile or broken plugin may print.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { jsonCodec } from '../../src/codec.js';
import { pluginConfig } from '../../src/config/defaults.js';
import { ErrorCode, isPluginError } from '../../src/errors.js';
import { ExecPlugin } from '../../src/transport/exec/index.js';
import { callContext, eventually, recordingLogger } from '../fixtures/callContext.js';

const HOSTILE = fileURLToPath(new URL('../fixtures/hostile-exec-plugin.mjs', import.meta.url));
const plugins: ExecPlugin[] = [];
after(async () => {
  await Promise.all(plugins.map((p) => p.close()));
});

function hostile(env: Record<string, string> = {}, timings = { initialMs: 20, maxMs: 200 }) {
  const logger = recordingLogger();
  const config = pluginConfig({
    name: 'hostile',
    transport: 'exec',
    executable: process.execPath,
    args: [HOSTILE],
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
  });
  const plugin = new ExecPlugin(config, { codec: jsonCodec, logger }, timings);
  plugins.push(plugin);
  return { plugin, logger };
}

test('a 6,000-level JSON line without request_id is logged (bounded) and skipped; the host lives on', async () => {
  const { plugin, logger } = hostile();
  await plugin.start(AbortSignal.timeout(10_000));
  assert.equal(await plugin.execute({ op: 'deep-stray' }, callContext()), 'after');
  const warning = logger.entries.find((e) => e.fields.source === 'stdout');
  assert.ok(warning, 'the skipped line is logged');
  assert.match(warning.message, /nested deeper than 512/);
  assert.ok(String(warning.fields.line).length < 300, 'the logged excerpt is bounded');
  assert.equal(await plugin.execute({ value: 7 }, callContext()), 7);
});

test('a 6,000-level line before the handshake does not crash start()', async () => {
  const { plugin } = hostile({ DEEP_BEFORE_HANDSHAKE: '1' });
  await plugin.start(AbortSignal.timeout(10_000));
  assert.equal(await plugin.execute({ value: 'ok' }, callContext()), 'ok');
});

test('a reply nested 6,000 levels fails its own call at once with PLUGIN_1209', async () => {
  const { plugin } = hostile();
  await plugin.start(AbortSignal.timeout(10_000));
  await assert.rejects(plugin.execute({ op: 'deep-reply' }, callContext()), {
    code: ErrorCode.InvalidResponse,
    message: /nested deeper than 512/,
  });
  assert.equal(await plugin.execute({ value: 1 }, callContext()), 1);
});

test('success: "yes" is an invalid reply (PLUGIN_1209), not a success', async () => {
  const { plugin } = hostile();
  await plugin.start(AbortSignal.timeout(10_000));
  await assert.rejects(plugin.execute({ op: 'yes' }, callContext()), {
    code: ErrorCode.InvalidResponse,
    message: /"success" must be true or false/,
  });
});

test('a child stuck part-way through a stdout line is killed and replaced, not fed more calls', async () => {
  const { plugin, logger } = hostile();
  await plugin.start(AbortSignal.timeout(10_000));
  const firstPid = plugin.pid;
  await assert.rejects(
    plugin.execute({ op: 'stall' }, callContext({ signal: AbortSignal.timeout(1_500) })),
    { code: ErrorCode.PluginTimeout },
  );
  // Before the fix the next call queued behind the half line and waited for its deadline. Now
  // it fails at once, retryably (the manager retries it), until the restarted child answers.
  let answer: unknown;
  await eventually(async () => {
    try {
      answer = await plugin.execute({ value: 'fresh' }, callContext());
      return true;
    } catch (error) {
      assert.ok(isPluginError(error) && error.retryable, `not retryable: ${String(error)}`);
      return false;
    }
  });
  assert.equal(answer, 'fresh');
  assert.notEqual(plugin.pid, firstPid);
  assert.ok(logger.entries.some((e) => /stuck part-way/.test(e.message)));
});
