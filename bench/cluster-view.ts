/**
 * Cluster mode's shared load view (docs/cluster.md#shared-load-view), against a real
 * redis-server on a Unix socket:
 *
 * 0. The parts of the cost, without Redis or plugins (paired, interleaved rounds, medians): a
 *    p2c / least-connections / adaptive pick on 4 members with and without the other replicas'
 *    load set on them (`Candidate.remote`), and one exchange's CPU (publishGroup +
 *    applyViews of 2 other replicas' views), amortized over the calls of one viewInterval.
 * 1. Cost per call: a p2c group of 4 in-process plugins, without a cluster section and with one
 *    (views exchanged every 250 ms, and every 10 ms; a second replica publishes too), measured
 *    in interleaved rounds (medians): wall ns and process CPU µs per call, the background
 *    exchanges included.
 * 2. Convergence: how long after a replica joins, shuts down, or goes silent (its Redis
 *    connection cut, as a crash) the others count it in or out (live replicas; views combined).
 *
 * Run: npm run bench -- cluster-view   (needs /usr/bin/redis-server)
 */
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { Manager, definePlugin } from '../src/index.js';
import { startRedis } from '../test/support/redis.js';
import { seededRandom } from '../src/balance/random.js';
import { createBalancer } from '../src/balance/registry.js';
import { FakeMember } from '../src/balance/testing/fake.js';
import { applyViews, publishGroup } from '../src/cluster/LoadView.js';
import { median, printTable } from './stats.js';

async function nsPerCall(iterations: number, body: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    await body();
    if (i % 1_000 === 999) await turn();
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100_000);

// 0. The parts: a pick with and without the others' load; one exchange.
{
  const clock = { time: 0, now: () => clock.time };
  const picks: Array<Record<string, string>> = [];
  for (const strategy of ['p2c', 'least-connections', 'adaptive']) {
    const setups = [false, true].map((shared) => {
      const members = Array.from(
        { length: 4 },
        (_, i) => new FakeMember(`m${i}`, { now: clock.now }),
      );
      const balancer = createBalancer(strategy, {}, { now: clock.now, random: seededRandom(1) });
      balancer.update?.(members);
      for (const m of members) {
        m.latency.observe(100);
        balancer.observe?.(m, 'op', 100, true);
        if (shared) m.remote = { inFlight: 2, work: 200, latency: 100 };
      }
      if (shared) {
        (
          balancer as { setSharedOperations?(o: Map<string, { sum: number; count: number }>): void }
        ).setSharedOperations?.(new Map([['op', { sum: 1_000, count: 10 }]]));
      }
      const req = {
        key: undefined,
        operation: 'op',
        accepts: (c: { available: boolean }) => c.available,
      };
      return { members, balancer, req, ns: [] as number[] };
    });
    const PICKS = 1_000_000;
    for (let round = 0; round < 9; round++) {
      for (const setup of round % 2 === 0 ? setups : [...setups].reverse()) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < PICKS; i++) setup.balancer.pick(setup.members, setup.req);
        setup.ns.push(Number(process.hrtime.bigint() - start) / PICKS);
      }
    }
    const [off, on] = setups.map((x) => median(x.ns));
    picks.push({
      strategy,
      'ns/pick, no remote load': off!.toFixed(1),
      'ns/pick, remote load set': on!.toFixed(1),
      added: (on! - off!).toFixed(1),
    });
  }
  printTable('a pick on 4 members (1,000,000 picks × 9 interleaved rounds, median)', picks);

  const group = (h: number) => {
    const members = Array.from(
      { length: 4 },
      (_, i) => new FakeMember(`m${i}`, { now: clock.now }),
    );
    const balancer = createBalancer('p2c', {}, { now: clock.now, random: seededRandom(h) });
    balancer.update?.(members);
    for (const m of members) balancer.observe?.(m, `op${h}`, 100, true);
    return { name: 'g', members, balancer };
  };
  const [self, a, b] = [group(0), group(1), group(2)];
  const others = [publishGroup(a), publishGroup(b)];
  const EXCHANGES = 20_000;
  const cpu: number[] = [];
  for (let round = 0; round < 7; round++) {
    const used = process.cpuUsage();
    for (let i = 0; i < EXCHANGES; i++) {
      // What the exchange does in process: publish ours (and JSON it), read and apply theirs.
      JSON.stringify({ g: { g: publishGroup(self) }, h: [] });
      applyViews(
        self,
        others.map((o) => JSON.parse(JSON.stringify(o)) as typeof o),
      );
    }
    const d = process.cpuUsage(used);
    cpu.push((d.user + d.system) / EXCHANGES);
  }
  const perExchange = median(cpu);
  printTable(
    'one exchange in process (a group of 4, 2 other replicas; 20,000 × 7 rounds, median)',
    [
      {
        'CPU µs per exchange': perExchange.toFixed(2),
        'per call at 1,000 calls/s, views every 250 ms (µs)': (perExchange / 250).toFixed(4),
        'per call at 100 calls/s (µs)': (perExchange / 25).toFixed(4),
      },
    ],
  );
}
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const redis = await startRedis();

// 1. The shared view's cost per call on a p2c group.
async function grouped(viewInterval: number | undefined): Promise<Manager<number, number>> {
  const m = new Manager<number, number>({ builtinTransports: false });
  await m.load({
    ...(viewInterval === undefined
      ? {}
      : {
          cluster: { redis: { url: redis.url }, namespace: `v${Math.random()}`, viewInterval },
        }),
    groups: { g: { strategy: 'p2c' } },
    plugins: [],
  });
  for (let i = 0; i < 4; i++) {
    await m.register(definePlugin<number, number>({ name: `p${i}`, execute: (n) => n + 1 }), {
      group: 'g',
    });
  }
  return m;
}
const variants: Array<{ label: string; m: Manager<number, number>; ns: number[]; cpu: number[] }> =
  [];
for (const [label, interval] of [
  ['p2c group, no cluster section', undefined],
  ['p2c group, cluster, views every 250 ms', 250],
  ['p2c group, cluster, views every 10 ms', 10],
] as const) {
  variants.push({ label, m: await grouped(interval), ns: [], cpu: [] });
}
// A second replica, so that the views carry something to combine.
const peer = await grouped(250);
for (const v of variants) {
  await nsPerCall(20_000, () => v.m.execute('g', 1, { operation: 'op' }));
}
const GROUP_CALLS = Math.min(ITERATIONS, 100_000);
for (let round = 0; round < RUNS; round++) {
  // Each round in another order: no variant always runs first (or after a given one).
  const order = variants.map((_, k) => variants[(k + round) % variants.length]!);
  for (const v of order) {
    const cpu = process.cpuUsage();
    v.ns.push(await nsPerCall(GROUP_CALLS, () => v.m.execute('g', 1, { operation: 'op' })));
    const used = process.cpuUsage(cpu);
    v.cpu.push((used.user + used.system) / GROUP_CALLS);
  }
}
const groupBase = median(variants[0]!.ns);
const cpuBase = median(variants[0]!.cpu);
printTable(
  `shared view, per call (${GROUP_CALLS} calls x ${RUNS} interleaved rounds, median)`,
  variants.map((v) => ({
    variant: v.label,
    'ns/call': median(v.ns).toFixed(0),
    'added ns': v === variants[0] ? '-' : (median(v.ns) - groupBase).toFixed(0),
    'CPU µs/call': median(v.cpu).toFixed(3),
    'added CPU µs': v === variants[0] ? '-' : (median(v.cpu) - cpuBase).toFixed(3),
    exchanges: String(v.m.cluster()?.view.exchanges ?? '-'),
  })),
);
await Promise.all([...variants.map((v) => v.m.shutdown()), peer.shutdown()]);

// 2. Convergence after a replica joins, leaves, or goes silent.
async function host(): Promise<Manager<number, number>> {
  const m = new Manager<number, number>({ builtinTransports: false });
  await m.load({
    cluster: {
      redis: { url: redis.url },
      namespace: 'converge',
      heartbeatInterval: 1_000,
      replicaTtl: 5_000,
    },
    groups: { g: { strategy: 'p2c' } },
    plugins: [],
  });
  await m.register(definePlugin<number, number>({ name: 'p', execute: (n) => n }), { group: 'g' });
  return m;
}
async function until(check: () => boolean): Promise<number> {
  const t = performance.now();
  while (!check()) await sleep(5);
  return performance.now() - t;
}
const hosts = await Promise.all([host(), host()]);
await until(() =>
  hosts.every((m) => m.cluster()!.liveReplicas === 2 && m.cluster()!.view.replicas === 1),
);
const seen = (live: number) => () => hosts.every((m) => m.cluster()!.liveReplicas === live);
const viewed = (others: number) => () => hosts.every((m) => m.cluster()!.view.replicas === others);
const convergence: Array<Record<string, string>> = [];
let t = performance.now();

const joiner = await host();
const joinLoad = performance.now() - t;
const [joinLive, joinView] = await Promise.all([until(seen(3)), until(viewed(2))]);
convergence.push({
  event: 'a replica joins (after its load())',
  'live replicas counted (ms)': joinLive.toFixed(0),
  'view combined (ms)': joinView.toFixed(0),
  note: `its load() took ${joinLoad.toFixed(0)} ms`,
});
await joiner.shutdown();
const [leftLive, leftView] = await Promise.all([until(seen(2)), until(viewed(1))]);
convergence.push({
  event: 'a replica shuts down',
  'live replicas counted (ms)': leftLive.toFixed(0),
  'view combined (ms)': leftView.toFixed(0),
  note: 'it withdraws both at close; others see it at their next heartbeat / exchange',
});
const silent = await host();
await until(seen(3));
await until(viewed(2));
t = performance.now();
// A crash, as Redis sees it: the connection goes, no goodbye.
(
  silent as unknown as { clusterNode: { redis: { disconnect(): void } } }
).clusterNode.redis.disconnect();
(silent as unknown as { clusterNode: { close(): Promise<void> } }).clusterNode.close = async () =>
  undefined;
const [silentLive, silentView] = await Promise.all([until(seen(2)), until(viewed(1))]);
convergence.push({
  event: 'a replica goes silent (connection cut)',
  'live replicas counted (ms)': silentLive.toFixed(0),
  'view combined (ms)': silentView.toFixed(0),
  note: 'ages out: replicaTtl 5 s (heartbeat 1 s), viewTtl 3 s',
});
printTable('convergence (defaults: viewInterval 250 ms, viewTtl 3 s)', convergence);
await Promise.all([...hosts.map((m) => m.shutdown()), silent.shutdown().catch(() => undefined)]);
await redis.stop();
