import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { ErrorCode, Manager, isPluginError } from '../../src/index.js';
import { processExists } from '../fixtures/callContext.js';
import { tempDir } from '../support/tmp.js';
import { QUICK, pluginScript, until, writePlugin } from './support.js';

interface Reply {
  label: string;
  pid: number;
}

const tmp = tempDir('plugwire-discovery-watch-');
after(() => tmp.remove());

function folder(name: string): string {
  const path = join(tmp.dir, name);
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  return path;
}

/** `workers` callers calling `target` in a loop until stopped, each outcome recorded. */
function callers(manager: Manager<unknown, Reply>, target: string, workers: number) {
  const failures: string[] = [];
  const labels = new Set<string>();
  const pids = new Set<number>();
  let calls = 0;
  let running = true;
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (running) {
        try {
          const reply = await manager.execute(target, { sleep: 5 }, { timeoutMs: 5_000 });
          labels.add(reply.label);
          pids.add(reply.pid);
        } catch (error) {
          // The manager shut down (a failed test's cleanup): stop rather than spin.
          if (isPluginError(error) && error.code === ErrorCode.ManagerClosed) break;
          failures.push(isPluginError(error) ? `${error.code} ${error.message}` : String(error));
        }
        calls++;
      }
    }),
  );
  return {
    failures,
    labels,
    pids,
    calls: () => calls,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

const watching = (directory: string, debounceMs = 100) => ({
  defaults: QUICK,
  plugins: [],
  discovery: {
    enabled: true,
    directories: [directory],
    patterns: ['plugin-*'],
    watchMode: true,
    debounceMs,
    poll: 500,
  },
});

describe('discovery in watch mode', () => {
  test('under 16 callers: a plugin is added, its binary replaced, then removed; no call fails', async (t) => {
    const dir = folder('load');
    writePlugin(join(dir, 'plugin-steady'), 'steady');
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    await manager.load(watching(dir));
    const steady = callers(manager, 'plugin-steady', 8);
    t.after(() => steady.stop());

    // Added: a file dropped into the folder (atomically: temp file + rename) is picked up.
    writePlugin(join(dir, 'plugin-fresh'), 'fresh-v1');
    await until(async () => {
      const reply = await manager.execute('plugin-fresh', {});
      assert.equal(reply.label, 'fresh-v1');
    }, 30_000);
    assert.equal(manager.readiness().runtime.plugins['plugin-fresh']?.state, 'ready');
    const fresh = callers(manager, 'plugin-fresh', 8);
    await sleep(200);

    // Replaced: a new binary renamed over the old one; the rolling reload loses no call.
    const oldPid = [...fresh.pids][0]!;
    writePlugin(join(dir, 'plugin-fresh'), 'fresh-v2');
    await until(
      () => assert.ok(fresh.labels.has('fresh-v2'), 'no reply from fresh-v2 yet'),
      30_000,
    );
    await until(() => assert.equal(processExists(oldPid), false), 30_000);
    await sleep(200);
    await fresh.stop();
    assert.deepEqual(fresh.failures, []);
    assert.ok(fresh.calls() > 50, `only ${fresh.calls()} calls on the replaced plugin`);

    // Removed: drained and closed, its process gone.
    const { pid } = await manager.execute('plugin-fresh', {});
    rmSync(join(dir, 'plugin-fresh'));
    await until(
      () =>
        assert.equal(
          manager.plugins().some((p) => p.name === 'plugin-fresh'),
          false,
        ),
      30_000,
    );
    await until(() => assert.equal(processExists(pid), false), 30_000);

    await steady.stop();
    assert.deepEqual(steady.failures, []);
    assert.ok(steady.calls() > 100, `only ${steady.calls()} calls on the steady plugin`);
    assert.equal(manager.readiness().ready, true);
  });

  test('a Kubernetes-style volume swap (..data symlink renamed) rolls the plugin to the new binary', async (t) => {
    const dir = folder('volume');
    mkdirSync(join(dir, '..2026_01'), { mode: 0o755 });
    writePlugin(join(dir, '..2026_01', 'plugin-k'), 'k-v1');
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync(join('..data', 'plugin-k'), join(dir, 'plugin-k'));
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    await manager.load(watching(dir));
    assert.equal((await manager.execute('plugin-k', {})).label, 'k-v1');
    const load = callers(manager, 'plugin-k', 4);

    // What the kubelet does: a new timestamped folder, a temp link to it, renamed over ..data.
    mkdirSync(join(dir, '..2026_02'), { mode: 0o755 });
    writePlugin(join(dir, '..2026_02', 'plugin-k'), 'k-v2');
    symlinkSync('..2026_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_01'), { recursive: true });

    await until(() => assert.ok(load.labels.has('k-v2'), 'no reply from k-v2 yet'), 30_000);
    await sleep(100);
    await load.stop();
    assert.deepEqual(load.failures, []);
    assert.equal((await manager.execute('plugin-k', {})).label, 'k-v2');
  });

  test('a file still being written is started only once it is complete', async (t) => {
    const dir = folder('slow-write');
    const manager = new Manager<unknown, Reply>();
    t.after(() => manager.shutdown());
    const failedStarts: string[] = [];
    manager.on('startup-attempt-failed', (e) => failedStarts.push(`${e.plugin}: ${e.error}`));
    // Two scans 250 ms apart must see the same size and times: the writer below never pauses
    // that long, so every scan during the write sees it still changing.
    await manager.load(watching(dir, 250));

    // Written in place, in pieces, over ~2.5 s (an scp or a slow copy): no rename to help. That is
    // longer than the debouncer's longest wait (5 × debounceMs), so scans run during the write.
    const text = pluginScript('slow');
    const path = join(dir, 'plugin-slow');
    writeFileSync(path, '');
    chmodSync(path, 0o755);
    const pieces = 60;
    for (let i = 0; i < pieces; i++) {
      const size = Math.ceil(text.length / pieces);
      appendFileSync(path, text.slice(i * size, (i + 1) * size));
      await sleep(40);
    }
    await until(async () => {
      assert.equal((await manager.execute('plugin-slow', {})).label, 'slow');
    }, 30_000);
    assert.deepEqual(failedStarts, []);
  });
});
