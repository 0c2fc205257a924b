import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { Manager, isConfigError, isPluginError, type ManagerEvents } from '../../src/index.js';
import { serveHttp, type ServedPlugin } from '../../src/sdk/index.js';
import { processExists } from '../fixtures/callContext.js';
import { tempDir } from '../support/tmp.js';

const FIXTURE = new URL('../fixtures/health-plugin.mjs', import.meta.url).pathname;

/**
 * Waits until `check()` holds, polling; fails naming `what` after `timeoutMs`. The deadline is
 * for correctness on a loaded machine, not a speed target: a condition that never comes fails.
 */
async function waitUntil(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
const tmp = tempDir('plugwire-reload-');
after(() => tmp.remove());

interface Reply {
  pid?: number;
  by?: string;
}

function execPlugin(name: string, version: string, extraEnv: string[] = []) {
  return {
    name,
    transport: 'exec',
    executable: process.execPath,
    args: [FIXTURE, `--version=${version}`],
    env: extraEnv,
    startup: { maxAttempts: 3, initialInterval: 50, maxInterval: 100, timeout: 30_000 },
    healthCheck: { interval: 1_000, timeout: 10_000 },
    retry: { maxRetries: 3, initialInterval: 10, maxInterval: 50 },
  };
}

function httpPlugin(name: string, endpoint: string) {
  return {
    name,
    transport: 'http',
    endpoint,
    healthCheck: { interval: 1_000, timeout: 1_000 },
    retry: { maxRetries: 3, initialInterval: 10, maxInterval: 50 },
  };
}

/** Calls every target in a loop from `workers` workers until stopped; records each outcome. */
function traffic(manager: Manager<unknown, Reply>, targets: string[], workers = 8) {
  const failures: string[] = [];
  const seen = new Map<string, Set<string>>();
  let calls = 0;
  let running = true;
  const done = Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      // Each worker goes round every target, so none is left without traffic for a while.
      for (let n = w; running; n++) {
        const target = targets[n % targets.length]!;
        try {
          const reply = await manager.execute(target, { n: calls }, { timeoutMs: 30_000 });
          const who = String(reply.pid ?? reply.by);
          if (!seen.has(target)) seen.set(target, new Set());
          seen.get(target)!.add(who);
        } catch (error) {
          failures.push(
            `${target}: ${isPluginError(error) ? `${error.code} ${error.message}` : String(error)}`,
          );
        }
        calls++;
      }
    }),
  );
  return {
    failures,
    seen,
    calls: () => calls,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function servers(label: string, count: number): Promise<ServedPlugin[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      serveHttp(async () => {
        await sleep(2);
        return { by: `${label}-${i}` };
      }),
    ),
  );
}

describe('reload under load', () => {
  for (const strategy of ['rolling', 'graceful'] as const) {
    test(`a ${strategy} reload of every endpoint and executable loses no call and leaves no old process`, async () => {
      const [oldHttp, newHttp] = [await servers('old', 2), await servers('new', 2)];
      const manager = new Manager<unknown, Reply>();
      try {
        const config = (version: string, http: ServedPlugin[]) => ({
          plugins: [
            execPlugin('exec-a', version),
            execPlugin('exec-b', version),
            httpPlugin('http-a', http[0]!.endpoint),
            httpPlugin('http-b', http[1]!.endpoint),
          ],
        });
        await manager.load(config('1', oldHttp));
        const targets = ['exec-a', 'exec-b', 'http-a', 'http-b'];
        const load = traffic(manager, targets);
        await waitUntil(() => targets.every((t) => load.seen.has(t)), 'a reply from every plugin');
        const oldPids = [...load.seen.get('exec-a')!, ...load.seen.get('exec-b')!].map(Number);
        const before = load.calls();
        const result = await manager.reload(config('2', newHttp), {
          strategy,
          drainTimeoutMs: 2_000,
        });
        // Traffic goes on after the swap: calls reach the new HTTP servers and processes.
        await waitUntil(
          () =>
            load.calls() - before > 100 &&
            load.seen.get('http-a')!.has('new-0') &&
            [...load.seen.get('exec-a')!].some((pid) => !oldPids.includes(Number(pid))),
          '100 calls since the reload began, some on the new instances',
        );
        await load.stop();

        assert.deepEqual(result.recreated.sort(), targets.sort());
        assert.deepEqual(result.rolledBack, []);
        assert.deepEqual(load.failures, []);
        assert.ok(
          load.calls() - before > 100,
          `only ${load.calls() - before} calls during the reload`,
        );
        assert.deepEqual([...load.seen.get('http-a')!].sort(), ['new-0', 'old-0']);
        for (const pid of oldPids)
          assert.equal(processExists(pid), false, `old child ${pid} is still running`);
        assert.deepEqual(
          manager
            .plugins()
            .map((p) => p.name)
            .sort(),
          targets.sort(),
          'every plugin keeps its name after the swap',
        );
      } finally {
        await manager.shutdown();
        await Promise.all([...oldHttp, ...newHttp].map((s) => s.close()));
      }
    });
  }
});

describe('draining', () => {
  async function slowAndFast(slowMs: number) {
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    const slow = await serveHttp(async (_req: unknown, ctx) => {
      arrived();
      await sleep(slowMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      return { by: 'old' };
    });
    const fast = await serveHttp(async () => ({ by: 'new' }));
    /** Resolves once a call is in the slow handler. */
    return { slow, fast, received };
  }

  test('graceful waits for the calls in flight on the old instance, not a fixed time', async () => {
    const { slow, fast, received } = await slowAndFast(300);
    const manager = new Manager<unknown, Reply>();
    try {
      const config = (endpoint: string) => ({
        plugins: [{ ...httpPlugin('p', endpoint), retry: { maxRetries: 0 } }],
      });
      await manager.load(config(slow.endpoint));
      const inFlight = manager.execute('p', {}, { timeoutMs: 30_000 });
      await received;
      const started = performance.now();
      await manager.reload(config(fast.endpoint), { strategy: 'graceful', drainTimeoutMs: 60_000 });
      const took = performance.now() - started;
      assert.deepEqual(await inFlight, { by: 'old' }, 'the call in flight finished on the old one');
      assert.ok(took >= 200, `the reload did not wait for the call (${took} ms)`);
      assert.ok(took < 30_000, `the reload waited for the drain timeout (${took} ms)`);
      assert.deepEqual(await manager.execute('p', {}), { by: 'new' });
    } finally {
      await manager.shutdown();
      await Promise.all([slow.close(), fast.close()]);
    }
  });

  test('after drainTimeoutMs an attempt still on the old instance is retried on the new one', async () => {
    const { slow, fast, received } = await slowAndFast(60_000);
    const manager = new Manager<unknown, Reply>();
    try {
      const config = (endpoint: string) => ({ plugins: [httpPlugin('p', endpoint)] });
      await manager.load(config(slow.endpoint));
      // Failing rather than answered 'old' when no retry came: the slow one takes 60 s.
      const inFlight = manager.execute('p', {}, { timeoutMs: 30_000 });
      await received;
      await manager.reload(config(fast.endpoint), { strategy: 'graceful', drainTimeoutMs: 100 });
      assert.deepEqual(await inFlight, { by: 'new' });
    } finally {
      await manager.shutdown();
      await Promise.all([slow.close({ timeoutMs: 0 }), fast.close()]);
    }
  });
});

describe('reload outcomes', () => {
  test('a new instance that never becomes healthy is rolled back and the old one keeps serving', async () => {
    const manager = new Manager<unknown, Reply>();
    try {
      await manager.load({ plugins: [execPlugin('p', '1')] });
      const pid = (await manager.execute('p', {})).pid;
      const result = await manager.reload({ plugins: [execPlugin('p', '2', ['NEVER_HEALTHY=1'])] });
      assert.deepEqual(result.recreated, []);
      assert.equal(result.rolledBack[0]?.name, 'p');
      assert.match(result.rolledBack[0]?.reason ?? '', /did not start.*health/);
      assert.equal((await manager.execute('p', {})).pid, pid, 'the old instance still serves');
    } finally {
      await manager.shutdown();
    }
  });

  test('an invalid config is refused whole and changes nothing', async () => {
    const manager = new Manager<unknown, Reply>();
    const refused: ManagerEvents['reload-failed'][] = [];
    manager.on('reload-failed', (e) => refused.push(e));
    try {
      await manager.load({ plugins: [execPlugin('p', '1')] });
      const pid = (await manager.execute('p', {})).pid;
      await assert.rejects(
        manager.reload({
          plugins: [{ ...execPlugin('p', '2'), retry: { maxRetries: -1 } }, { name: 'q' }],
        }),
        (error) => isConfigError(error) && error.issues.length >= 2,
      );
      assert.equal(refused.length, 1);
      assert.equal((await manager.execute('p', {})).pid, pid);
      assert.deepEqual(
        manager.plugins().map((p) => p.name),
        ['p'],
      );
    } finally {
      await manager.shutdown();
    }
  });

  test('enabled: false stops routing, removal closes, a rename is a removal and an addition', async () => {
    const manager = new Manager<unknown, Reply>();
    const removedEvents: string[] = [];
    manager.on('plugin-removed', (e) => removedEvents.push(e.plugin));
    try {
      await manager.load({ plugins: [execPlugin('a', '1'), execPlugin('b', '1')] });
      const pidB = (await manager.execute('b', {})).pid!;

      const disabled = await manager.reload({
        plugins: [{ ...execPlugin('a', '1'), enabled: false }, execPlugin('b', '1')],
      });
      assert.deepEqual(disabled.applied, ['a']);
      await assert.rejects(manager.execute('a', {}), { code: 'PLUGIN_1202' });

      const renamed = await manager.reload({
        plugins: [{ ...execPlugin('a', '1'), enabled: false }, execPlugin('b2', '1')],
      });
      assert.deepEqual(renamed.removed, ['b']);
      assert.deepEqual(removedEvents, ['b']);
      assert.deepEqual(renamed.added, ['b2']);
      assert.equal(processExists(pidB), false, 'the removed plugin was closed');
      await assert.rejects(manager.execute('b', {}), { code: 'PLUGIN_1201' });
      assert.ok((await manager.execute('b2', {})).pid);
    } finally {
      await manager.shutdown();
    }
  });

  test('removing an initial plugin takes it out of the set readiness waits for', async () => {
    const manager = new Manager<unknown, Reply>();
    try {
      await manager.load({
        readiness: { policy: 'healthy' },
        plugins: [execPlugin('keep', '1'), execPlugin('broken', '1', ['NEVER_HEALTHY=1'])],
      });
      assert.equal(manager.readiness().ready, false, 'the broken initial plugin holds it back');
      await manager.reload({
        readiness: { policy: 'healthy' },
        plugins: [execPlugin('keep', '1')],
      });
      const report = manager.readiness();
      assert.equal(report.initial.total, 1);
      assert.deepEqual(Object.keys(report.initial.plugins), ['keep']);
      assert.equal(report.ready, true, report.reason);
    } finally {
      await manager.shutdown();
    }
  });

  test('a shutdown during a rolling reload closes the new instance that was still starting', async () => {
    const pids = join(tmp.dir, 'pids-during-shutdown');
    const manager = new Manager<unknown, Reply>();
    await manager.load({ plugins: [execPlugin('p', '1', [`PID_FILE=${pids}`])] });
    const reloading = manager.reload({
      plugins: [execPlugin('p', '2', [`PID_FILE=${pids}`, 'START_MS=3000'])],
    });
    const deadline = Date.now() + 30_000;
    while (readFileSync(pids, 'utf8').trim().split('\n').length < 2 && Date.now() < deadline) {
      await sleep(10);
    }
    await manager.shutdown();
    await reloading.catch(() => undefined);
    const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.equal(started.length, 2, 'the old and the new instance both ran');
    for (const pid of started)
      assert.equal(processExists(pid), false, `pid ${pid} outlived shutdown`);
  });

  test('changes a live plugin can take are applied in place, keeping its process', async () => {
    const manager = new Manager<unknown, Reply>();
    try {
      await manager.load({ plugins: [execPlugin('p', '1')] });
      const pid = (await manager.execute('p', {})).pid;
      const result = await manager.reload({
        plugins: [
          {
            ...execPlugin('p', '1'),
            circuitBreaker: { failureThreshold: 9 },
            rateLimit: { enabled: true, requestsPerSecond: 1_000, burstSize: 10 },
            weight: 3,
          },
        ],
      });
      assert.deepEqual(result.applied, ['p']);
      assert.deepEqual(result.diff.updated[0]?.mode, 'in-place');
      assert.equal((await manager.execute('p', {})).pid, pid);
      assert.equal(manager.plugins()[0]?.weight, 3);
    } finally {
      await manager.shutdown();
    }
  });
});

describe('watching a config file', () => {
  const yaml = (endpoint: string) =>
    `plugins:\n  - name: web\n    transport: http\n    endpoint: ${endpoint}\n    healthCheck: { interval: 1s }\n`;

  test('a broken file keeps the running config and reports it; a good one is applied', async () => {
    const [a, b] = await servers('file', 2);
    const file = join(tmp.dir, 'plugins.yaml');
    writeFileSync(file, yaml(a!.endpoint));
    const manager = new Manager<unknown, Reply>();
    const failed: string[] = [];
    const reloaded: string[] = [];
    manager.on('reload-failed', (e) => failed.push(e.error.message));
    manager.on('reload', (e) => reloaded.push(e.result.strategy));
    try {
      await manager.load(file);
      const stop = manager.watch(file, { debounceMs: 30 });
      writeFileSync(file, 'plugins:\n  - name: web\n    transport: [oops\n');
      await waitUntil(() => failed.length > 0, 'the reload-failed event');
      assert.equal((await manager.execute('web', {})).by, 'file-0', 'the old config still serves');

      writeFileSync(file, yaml(b!.endpoint));
      await waitUntil(() => reloaded.length > 0, 'the reload');
      assert.equal((await manager.execute('web', {})).by, 'file-1');
      stop();
    } finally {
      await manager.shutdown();
      await a!.close();
      await b!.close();
    }
  });

  test('a Kubernetes ConfigMap update (the ..data symlink swap) is picked up', async () => {
    const [a, b] = await servers('cm', 2);
    const dir = join(tmp.dir, 'configmap');
    mkdirSync(join(dir, '..2026_11_20_01'), { recursive: true });
    writeFileSync(join(dir, '..2026_11_20_01', 'plugins.yaml'), yaml(a!.endpoint));
    symlinkSync('..2026_11_20_01', join(dir, '..data'));
    symlinkSync('..data/plugins.yaml', join(dir, 'plugins.yaml'));
    const manager = new Manager<unknown, Reply>();
    const reloaded: number[] = [];
    manager.on('reload', () => reloaded.push(Date.now()));
    try {
      await manager.load(join(dir, 'plugins.yaml'));
      const stop = manager.watch(join(dir, 'plugins.yaml'), { debounceMs: 30 });
      // What the kubelet does: a new timestamped dir, a temp link to it, renamed over ..data.
      mkdirSync(join(dir, '..2026_11_20_02'));
      writeFileSync(join(dir, '..2026_11_20_02', 'plugins.yaml'), yaml(b!.endpoint));
      symlinkSync('..2026_11_20_02', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await waitUntil(() => reloaded.length > 0, 'the reload');
      assert.equal((await manager.execute('web', {})).by, 'cm-1');
      stop();
    } finally {
      await manager.shutdown();
      await a!.close();
      await b!.close();
    }
  });
});
