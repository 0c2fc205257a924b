import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, type ManagerEvents } from '../../src/index.js';
import { serveHttp, type ServedPlugin } from '../../src/sdk/index.js';
import { eventually } from '../fixtures/callContext.js';
import { startRedis, type RedisServer } from '../support/redis.js';

let redis: RedisServer;
/** Four plugin instances shared by the replicas; each counts the held calls it received. */
const instances: Array<{ served: ServedPlugin; held: number }> = [];
let release!: () => void;
let released: Promise<void>;

function rearm(): void {
  released = new Promise<void>((resolve) => (release = resolve));
  for (const instance of instances) instance.held = 0;
}

before(async () => {
  redis = await startRedis();
  for (let i = 0; i < 4; i++) {
    const instance = { served: undefined as unknown as ServedPlugin, held: 0 };
    instance.served = await serveHttp<string, string>(async (req) => {
      if (req === 'hold') {
        instance.held++;
        await released;
      } else if (req.startsWith('sleep:')) {
        await sleep(Number(req.slice(6)));
      }
      return `w${i + 1}`;
    });
    instances.push(instance);
  }
  rearm();
});
after(async () => {
  release();
  await Promise.all(instances.map((i) => i.served.close()));
  await redis.stop();
});

/** A host replica calling the four instances as group `workers`. */
async function replica(
  namespace: string | undefined,
  strategy: string,
  options: Record<string, unknown> = {},
): Promise<Manager<string, string>> {
  const manager = new Manager<string, string>();
  await manager.load({
    ...(namespace === undefined
      ? {}
      : {
          cluster: {
            redis: { url: redis.url },
            namespace,
            viewInterval: '50ms',
            viewTtl: '500ms',
            // Long, so that a call that waited on a Redis command would show it (see below).
            commandTimeout: '2s',
            reconnect: { maxInterval: 200 },
          },
        }),
    groups: { workers: { strategy, options } },
    plugins: instances.map((instance, i) => ({
      name: `w${i + 1}`,
      transport: 'http',
      endpoint: instance.served.endpoint,
      group: 'workers',
      healthCheck: { enabled: false },
    })),
  });
  return manager;
}

/** Waits until both replicas exchanged their views twice more (so each has the other's latest). */
async function exchanged(...managers: Manager<string, string>[]): Promise<void> {
  const start = managers.map((m) => m.cluster()!.view.exchanges);
  await eventually(
    () => managers.every((m, i) => m.cluster()!.view.exchanges >= start[i]! + 2),
    5_000,
    'two exchanges',
  );
}

const heldOn = () => instances.map((i) => i.held);
const total = () => heldOn().reduce((a, b) => a + b, 0);

/** Replica a sends two held calls, then b sends two: where did the four land? */
async function twoByTwo(
  a: Manager<string, string>,
  b: Manager<string, string>,
  operation?: string,
): Promise<number[]> {
  rearm();
  const calls: Promise<string>[] = [];
  const send = (m: Manager<string, string>) =>
    calls.push(m.execute('workers', 'hold', operation === undefined ? {} : { operation }));
  send(a);
  send(a);
  await eventually(() => total() === 2, 5_000, "a's calls arrived");
  if (a.cluster() !== undefined) await exchanged(a, b);
  send(b);
  send(b);
  await eventually(() => total() === 4, 5_000, "b's calls arrived");
  const placed = heldOn();
  release();
  await Promise.all(calls);
  return placed;
}

test('without the shared view, two replicas pile their long calls onto the same two instances', async () => {
  const a = await replica(undefined, 'least-connections');
  const b = await replica(undefined, 'least-connections');
  after(() => Promise.all([a.shutdown(), b.shutdown()]));
  // The control: each replica alone sees idle instances and picks the same "least loaded" ones.
  assert.deepEqual(await twoByTwo(a, b), [2, 2, 0, 0]);
});

test('least-connections with the shared view: two replicas spread their long calls over the four instances', async () => {
  const events: ManagerEvents['cluster-view'][] = [];
  const a = await replica('lc', 'least-connections');
  const b = await replica('lc', 'least-connections');
  b.on('cluster-view', (e) => events.push(e));
  after(() => Promise.all([a.shutdown(), b.shutdown()]));
  await eventually(() => b.cluster()!.view.replicas === 1, 5_000, "b combines a's view");
  assert.deepEqual(await twoByTwo(a, b), [1, 1, 1, 1]);
  assert.deepEqual(events[0], { replicas: 1, previous: 0 });
  // Once a's calls ended (and were published), b sees the instances idle again.
  await exchanged(a, b);
  assert.equal(b.cluster()!.view.failures, 0);
});

test("adaptive with the shared view: b classifies an operation from a's latencies and spreads its long calls", async () => {
  const options = { threshold: '40ms' };
  const a = await replica('adaptive', 'adaptive', options);
  const b = await replica('adaptive', 'adaptive', options);
  after(() => Promise.all([a.shutdown(), b.shutdown()]));
  // Only a has run `report`: 60 ms each, above the 40 ms threshold, so `report` is long.
  for (let i = 0; i < 3; i++) await a.execute('workers', 'sleep:60', { operation: 'report' });
  await eventually(() => b.cluster()!.view.replicas === 1, 5_000, "b combines a's view");
  const placed = await twoByTwo(a, b, 'report');
  // a: its two long calls on two non-primary instances; b: seeing them, the remaining two.
  assert.deepEqual(placed, [1, 1, 1, 1]);
});

test('Redis killed: calls go on (no failure, no wait), the view falls back to local within viewTtl, and resumes when Redis is back', async () => {
  const a = await replica('kill', 'least-connections');
  const b = await replica('kill', 'least-connections');
  after(() => Promise.all([a.shutdown(), b.shutdown()]));
  const views: number[] = [];
  b.on('cluster-view', (e) => views.push(e.replicas));
  await eventually(() => b.cluster()!.view.replicas === 1, 5_000, "b combines a's view");

  let stop = false;
  const failures: string[] = [];
  let slowest = 0;
  let calls = 0;
  let slowAt = 0;
  const t0 = performance.now();
  const marks: Record<string, number> = {};
  const drive = async (m: Manager<string, string>) => {
    while (!stop) {
      const started = performance.now();
      await m.execute('workers', 'sleep:5').then(
        () => void calls++,
        (error: unknown) => void failures.push(String(error)),
      );
      const took = performance.now() - started;
      if (took > slowest) {
        slowest = took;
        slowAt = started - t0;
      }
    }
  };
  const driving = Promise.all([drive(a), drive(a), drive(b), drive(b)]);
  await sleep(300);
  marks.kill = performance.now() - t0;
  await redis.kill();
  // Within viewTtl (500 ms) plus an exchange, b stops using a's view: local decisions only.
  await eventually(() => b.cluster()!.view.replicas === 0, 3_000, 'view aged out');
  const down = b.cluster()!;
  assert.equal(down.redis, 'down');
  await sleep(300);
  marks.restart = performance.now() - t0;
  await redis.restart();
  marks.restarted = performance.now() - t0;
  await eventually(() => b.cluster()!.view.replicas === 1, 5_000, 'view resumed');
  await sleep(200);
  stop = true;
  await driving;

  assert.deepEqual(failures, []);
  assert.ok(calls > 50, `${calls} calls`);
  // Every Redis command runs off the call path: no call waited on the dead Redis (a command
  // there times out after 2 s, or fails when the connection drops; a 5 ms call that waited on
  // one would take that long). The bound is loose for a loaded machine, not a speed goal.
  assert.ok(
    slowest < 1_000,
    `slowest call ${slowest.toFixed(0)} ms at ${slowAt.toFixed(0)} (${JSON.stringify(marks)})`,
  );
  assert.deepEqual(views, [1, 0, 1]);
  assert.equal(b.cluster()!.redis, 'ready');
});

test('a replica whose breaker opens on a member hints it; the other probes that member at once', async () => {
  const instance = instances[0]!;
  const plugins = (circuitBreaker: Record<string, unknown>) => [
    {
      name: 'flaky',
      transport: 'http',
      endpoint: instance.served.endpoint,
      // No group: hints concern any plugin named alike on both replicas.
      circuitBreaker,
      // Checks every minute: only a hint makes b check it within this test.
      healthCheck: { interval: '60s' },
    },
  ];
  const host = async (breaker: Record<string, unknown>) => {
    const m = new Manager<string, string>();
    await m.load({
      cluster: {
        redis: { url: redis.url },
        namespace: 'hints',
        viewInterval: '50ms',
        viewTtl: '500ms',
      },
      plugins: plugins(breaker),
    });
    return m;
  };
  const a = await host({ enabled: true, failureThreshold: 1 });
  const b = await host({ enabled: true, failureThreshold: 5 });
  after(() => Promise.all([a.shutdown(), b.shutdown()]));
  await eventually(() => b.cluster()!.view.replicas === 1, 5_000, "b combines a's view");
  const hints: ManagerEvents['cluster-hint'][] = [];
  const checks: string[] = [];
  b.on('cluster-hint', (e) => hints.push(e));
  b.on('health-check', (e) => checks.push(e.plugin));

  // One failure (a timeout) opens a's breaker.
  await assert.rejects(a.execute('flaky', 'sleep:300', { timeoutMs: 50 }));
  assert.equal(a.plugins()[0]!.breaker?.state, 'open');
  await eventually(() => hints.length === 1, 5_000, 'b received the hint');
  assert.equal(hints[0]!.plugin, 'flaky');
  assert.equal(hints[0]!.from, a.cluster()!.replicaId);
  await eventually(() => checks.includes('flaky'), 5_000, 'b probed flaky');
  // b decides for itself: its own breaker is untouched, and the member still serves b.
  assert.equal(b.plugins()[0]!.breaker?.state, 'closed');
  assert.equal(await b.execute('flaky', 'x'), 'w1');
  assert.equal(a.cluster()!.view.hints.sent, 1);
  assert.equal(b.cluster()!.view.hints.received, 1);
  // Hints are acted on once: later exchanges carry the same hint and b ignores it.
  await exchanged(a, b);
  assert.equal(hints.length, 1);
});
