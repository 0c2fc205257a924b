import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { Manager, definePlugin, isConfigError, isPluginError } from '../../src/index.js';
import { serveHttp, type ServedPlugin } from '../../src/sdk/index.js';
import { execFactory } from '../../src/transport/exec/index.js';
import { tempDir } from '../support/tmp.js';

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

const tmp = tempDir('plugwire-groups-');
after(() => tmp.remove());

describe('groups in the manager', () => {
  test('a group name is a target: calls are spread over its members', async () => {
    const manager = new Manager<string, string>({ builtinTransports: false });
    try {
      for (const name of ['a', 'b', 'c']) {
        await manager.register(definePlugin({ name, execute: () => name }), { group: 'letters' });
      }
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => manager.execute('letters', '')),
      );
      for (const name of ['a', 'b', 'c']) {
        assert.equal(answers.filter((x) => x === name).length, 10, `round robin share of ${name}`);
      }
      assert.equal(await manager.execute('b', ''), 'b', 'members stay callable by name');
    } finally {
      await manager.shutdown();
    }
  });

  test('a disabled instance leaves the rotation and comes back when enabled', async () => {
    const manager = new Manager<string, string>({ builtinTransports: false });
    try {
      for (const name of ['a', 'b']) {
        await manager.register(definePlugin({ name, execute: () => name }), { group: 'g' });
      }
      await manager.setEnabled('a', false);
      const only = await Promise.all(Array.from({ length: 6 }, () => manager.execute('g', '')));
      assert.deepEqual([...new Set(only)], ['b']);
      await assert.rejects(manager.execute('a', ''), { code: 'PLUGIN_1202' });
      await manager.setEnabled('a', true);
      const both = await Promise.all(Array.from({ length: 6 }, () => manager.execute('g', '')));
      assert.deepEqual([...new Set(both)].sort(), ['a', 'b']);
    } finally {
      await manager.shutdown();
    }
  });

  test('a retryable failure is retried on another instance', async () => {
    const manager = new Manager<string, string>({ builtinTransports: false });
    const seen: string[] = [];
    try {
      await manager.register(
        definePlugin({
          name: 'down',
          execute: () => {
            seen.push('down');
            throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
          },
        }),
        { group: 'g', retry: { maxRetries: 1, initialInterval: 1 } },
      );
      await manager.register(definePlugin({ name: 'up', execute: () => (seen.push('up'), 'up') }), {
        group: 'g',
      });
      assert.equal(await manager.execute('g', ''), 'up');
      assert.deepEqual(seen, ['down', 'up']);
    } finally {
      await manager.shutdown();
    }
  });

  test('plugins and groups share one namespace, on register and on reload', async () => {
    const manager = new Manager<string, string>({ builtinTransports: false });
    try {
      await assert.rejects(
        manager.register(definePlugin({ name: 'x', execute: () => 'x' }), { group: 'x' }),
        (e) => isConfigError(e) && e.issues[0]?.path === 'group',
      );
      await manager.register(definePlugin({ name: 'pay', execute: () => 'pay' }));
      await assert.rejects(
        manager.reload({ groups: { pay: { strategy: 'random' } }, plugins: [] }),
        (e) => isConfigError(e) && e.issues[0]?.path === 'groups.pay',
      );
      assert.equal(await manager.execute('pay', ''), 'pay', 'the plugin was not shadowed');
    } finally {
      await manager.shutdown();
    }
  });

  test('group options are validated with the other problems, by path, and nothing is created', async () => {
    const manager = new Manager();
    let created = 0;
    manager.registerFactory('exec', {
      ...execFactory,
      create: (config, deps) => (created++, execFactory.create(config, deps)),
    });
    try {
      await manager.load({
        groups: { g: { strategy: 'consistent-hash', options: { virtualNodez: 3 } } },
        plugins: [{ name: 'p', transport: 'exec', group: 'g' }],
      });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(isConfigError(error), String(error));
      const paths = error.issues.map((i) => i.path);
      assert.ok(paths.includes('plugins[0].executable'), paths.join(', '));
    }
    try {
      await manager.load({
        groups: { g: { strategy: 'consistent-hash', options: { virtualNodez: 3 } } },
        plugins: [{ name: 'p', transport: 'exec', executable: process.execPath, group: 'g' }],
      });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(isConfigError(error), String(error));
      assert.deepEqual(
        error.issues.map((i) => i.path),
        ['groups.g.options.virtualNodez'],
      );
      assert.equal(created, 0, 'no factory ran');
      assert.equal(manager.plugins().length, 0, 'nothing was created');
    } finally {
      await manager.shutdown();
    }
  });
});

describe('failover over real HTTP plugins', () => {
  async function fleet(maxRetries: number, idempotent = false) {
    const servers: ServedPlugin[] = [];
    // Every request each instance started to run, by n: proves what ran twice.
    const executed = new Map<number, number>();
    for (let i = 0; i < 3; i++) {
      servers.push(
        await serveHttp(async (req: { n: number }) => {
          executed.set(req.n, (executed.get(req.n) ?? 0) + 1);
          await sleep(5);
          return { n: req.n, by: i };
        }),
      );
    }
    const manager = new Manager<{ n: number }, { n: number; by: number }>();
    await manager.load({
      // The group's own policy (a group never borrows a member's).
      groups: {
        api: {
          strategy: 'round-robin',
          idempotent,
          retry: { maxRetries, initialInterval: 5, maxInterval: 20 },
        },
      },
      plugins: servers.map((server, i) => ({
        name: `api-${i}`,
        group: 'api',
        transport: 'http',
        endpoint: server.endpoint,
        circuitBreaker: { failureThreshold: 3, recoveryTimeout: 60_000 },
        healthCheck: { interval: 10_000 },
      })),
    });
    return { servers, manager, executed };
  }

  /** Runs `workers` loops of calls until `stop()`, counting failures by code. */
  function load(manager: Manager<{ n: number }, { n: number; by: number }>, workers: number) {
    const failures: string[] = [];
    let ok = 0;
    let running = true;
    const done = Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let n = 0; running; n++) {
          try {
            const reply = await manager.execute(
              'api',
              { n: w * 1_000_000 + n },
              { timeoutMs: 30_000 },
            );
            assert.equal(reply.n, w * 1_000_000 + n);
            ok++;
          } catch (error) {
            failures.push(isPluginError(error) ? error.code : String(error));
          }
        }
      }),
    );
    return {
      failures,
      ok: () => ok,
      stop: async () => {
        running = false;
        await done;
      },
    };
  }

  test('killing one of three instances under load: idempotent calls, no caller sees a failure', async () => {
    const { servers, manager } = await fleet(2, true);
    try {
      const traffic = load(manager, 12);
      const victim = () => manager.plugins().find((p) => p.name === 'api-1');
      await waitUntil(() => (victim()?.inFlight ?? 0) > 0, 'calls in flight on api-1');
      await servers[1]!.close({ timeoutMs: 0 }); // in-flight requests on it are cut
      const okAtKill = traffic.ok();
      await waitUntil(
        () => victim()?.breaker?.state === 'open' && traffic.ok() > okAtKill + 20,
        'the breaker of the dead instance to open and 20 more calls to succeed',
      );
      await traffic.stop();
      assert.deepEqual(traffic.failures, []);
      assert.ok(traffic.ok() > okAtKill + 20, 'traffic kept flowing after the kill');
      assert.equal(victim()?.breaker?.state, 'open', 'the dead instance was taken out');
    } finally {
      await manager.shutdown();
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  test('killing one of three instances under load: a non-idempotent request runs at most once', async () => {
    const { servers, manager, executed } = await fleet(2, false);
    try {
      const traffic = load(manager, 12);
      await sleep(150);
      const inFlightOnVictim = manager.plugins().find((p) => p.name === 'api-1')?.inFlight ?? 0;
      await servers[1]!.close({ timeoutMs: 0 }); // in-flight requests on it are cut
      await sleep(300);
      await traffic.stop();
      const twice = [...executed].filter(([, runs]) => runs > 1);
      assert.deepEqual(twice, [], 'a request ran twice');
      // Only calls cut after they were sent fail (refused connections fail over for free).
      assert.ok(
        traffic.failures.length <= inFlightOnVictim + 12,
        `${traffic.failures.length} failures, ${inFlightOnVictim} were in flight`,
      );
      assert.ok(
        traffic.ok() > 20,
        `traffic kept flowing after the kill: ${traffic.ok()} ok, ${traffic.failures.join()}`,
      );
    } finally {
      await manager.shutdown();
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  test('without retries, only the calls in flight on the killed instance fail', async () => {
    const { servers, manager } = await fleet(0);
    try {
      const traffic = load(manager, 12);
      const victim = () => manager.plugins().find((p) => p.name === 'api-1');
      await waitUntil(() => (victim()?.inFlight ?? 0) > 0, 'calls in flight on api-1');
      const inFlightOnVictim = victim()?.inFlight ?? 0;
      const okAtKill = traffic.ok();
      await servers[1]!.close({ timeoutMs: 0 });
      // Long enough for the failures to stop growing if they were going to: the breaker opens
      // and 100 calls succeed on the others.
      await waitUntil(
        () => victim()?.breaker?.state === 'open' && traffic.ok() - okAtKill > 100,
        'the breaker of the dead instance to open and 100 more calls to succeed',
      );
      await traffic.stop();
      // The calls on it when it died, plus at most one per caller that reached it while it was
      // closing (before the breaker opened): a bounded few, against hundreds that went on.
      const workers = 12;
      assert.ok(
        traffic.failures.length <= inFlightOnVictim + workers,
        `${traffic.failures.length} failures, ${inFlightOnVictim} were in flight`,
      );
      assert.ok(
        traffic.ok() - okAtKill > 20,
        `the other instances kept answering: ${traffic.ok() - okAtKill} ok after the kill`,
      );
    } finally {
      await manager.shutdown();
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});

test('an offline instance leaves the group and comes back when healthy', async () => {
  const fixture = new URL('../fixtures/health-plugin.mjs', import.meta.url).pathname;
  const sick = join(tmp.dir, 'sick');
  const manager = new Manager<unknown, { pid: number }>();
  try {
    const plugin = (name: string, env: string[]) => ({
      name,
      group: 'g',
      transport: 'exec',
      executable: process.execPath,
      args: [fixture],
      env,
      healthCheck: { interval: 50, timeout: 1_000, failureLimit: 2 },
    });
    await manager.load({
      plugins: [plugin('steady', []), plugin('flappy', [`SICK_FILE=${sick}`])],
    });
    const pidsOf = async (): Promise<Set<number>> =>
      new Set(
        (await Promise.all(Array.from({ length: 10 }, () => manager.execute('g', {})))).map(
          (r) => r.pid,
        ),
      );
    assert.equal((await pidsOf()).size, 2);

    writeFileSync(sick, '');
    const waitFor = async (status: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (manager.health().flappy?.status !== status && Date.now() < deadline) await sleep(10);
      assert.equal(manager.health().flappy?.status, status);
    };
    await waitFor('offline');
    assert.equal((await pidsOf()).size, 1, 'the offline instance gets no calls');
    rmSync(sick);
    await waitFor('healthy');
    assert.equal((await pidsOf()).size, 2, 'it is back in the rotation');
  } finally {
    await manager.shutdown();
  }
});
