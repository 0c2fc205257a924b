/**
 * Cluster mode (docs/cluster.md), against a real redis-server on a Unix socket:
 *
 * 1. Added cost per call: the same in-process plugin with no cluster, with a cluster section
 *    (nothing shared), with a local rate limit and with a cluster-scope one (leased tokens).
 *    The limits are far above the call rate, so every call is admitted; with the cluster scope,
 *    leases still go to Redis, in the background, every `leaseInterval` worth of the limit.
 * 2. Global limit accuracy: 3 replicas (managers with their own Redis connections) share a
 *    limit of 300/s, each offering ~250 calls/s; then one leaves and 2 go on.
 *
 * The shared load view's cost and convergence: bench/cluster-view.ts.
 *
 * Run: npm run bench -- cluster   (needs /usr/bin/redis-server)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, definePlugin, type RegisterOptions } from '../src/index.js';
import { startRedis } from '../test/support/redis.js';
import { setImmediate as turn } from 'node:timers/promises';
import { median, printTable } from './stats.js';

/**
 * Like stats.nsPerCall, but gives the event loop a turn every 1,000 calls, as a service does
 * between requests: Redis replies (leases) are only read then. Same loop for every variant.
 */
async function nsPerCall(iterations: number, body: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    await body();
    if (i % 1_000 === 999) await turn();
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const redis = await startRedis();

async function manager(cluster: boolean, leaseInterval = 100): Promise<Manager<number, number>> {
  const m = new Manager<number, number>({ builtinTransports: false });
  await m.load({
    ...(cluster
      ? { cluster: { redis: { url: redis.url }, namespace: `b${Math.random()}`, leaseInterval } }
      : {}),
    plugins: [],
  });
  return m;
}

async function cost(
  m: Manager<number, number>,
  options: RegisterOptions,
): Promise<{ ns: number; leases: string }> {
  await m.register(definePlugin<number, number>({ name: 'echo', execute: (n) => n + 1 }), options);
  const body = () => m.execute('echo', 1);
  await nsPerCall(Math.min(ITERATIONS, 50_000), body);
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await nsPerCall(ITERATIONS, body));
  const status = m.cluster();
  await m.shutdown();
  const leases = status
    ? `${status.leases.requests} (${status.fallback.admitted + status.warmup.admitted} local)`
    : '-';
  return { ns: median(runs), leases };
}

const LIMIT = { enabled: true, requestsPerSecond: 1e7, burstSize: 1e6 } as const;
const rows: Array<{ variant: string; ns: number; leases: string }> = [];
rows.push({ variant: 'no cluster section, no limit', ...(await cost(await manager(false), {})) });
rows.push({ variant: 'cluster section, no limit', ...(await cost(await manager(true), {})) });
rows.push({
  variant: 'local limit (scope: local)',
  ...(await cost(await manager(false), { rateLimit: { ...LIMIT, scope: 'local' } })),
});
for (const leaseInterval of [100, 1]) {
  const m = await manager(true, leaseInterval);
  rows.push({
    variant: `cluster limit, leaseInterval ${leaseInterval} ms`,
    ...(await cost(m, { rateLimit: { ...LIMIT, scope: 'cluster' } })),
  });
}
const base = rows[0]!.ns;
printTable(
  `per-call cost (Node ${process.version}, ${ITERATIONS} calls x ${RUNS} runs, median)`,
  rows.map((r) => ({
    variant: r.variant,
    'ns/call': r.ns.toFixed(0),
    'added ns vs no cluster': r === rows[0] ? '-' : (r.ns - base).toFixed(0),
    'Redis leases (local decisions)': r.leases,
  })),
);

// 2. Accuracy of one limit shared by 3 replicas, then 2.
async function replica(
  namespace: string,
  received: { n: number },
): Promise<Manager<number, number>> {
  const m = new Manager<number, number>({ builtinTransports: false });
  await m.load({
    cluster: { redis: { url: redis.url }, namespace, heartbeatInterval: 200, replicaTtl: 1_000 },
    plugins: [],
  });
  await m.register(
    definePlugin<number, number>({ name: 'limited', execute: (n) => (received.n++, n) }),
    { rateLimit: { enabled: true, requestsPerSecond: 300, burstSize: 30, scope: 'cluster' } },
  );
  return m;
}

const offered = { n: 0 };
async function offer(m: Manager<number, number>, stop: { done: boolean }): Promise<void> {
  const calls: Promise<unknown>[] = [];
  while (!stop.done) {
    offered.n++;
    calls.push(m.execute('limited', 1).catch(() => undefined));
    await sleep(4);
  }
  await Promise.all(calls);
}

const received = { n: 0 };
const replicas = await Promise.all([1, 2, 3].map(() => replica('accuracy', received)));
await sleep(500);
const accuracy: Array<Record<string, string>> = [];
for (const [label, active, seconds] of [
  ['3 replicas', replicas, 5],
  ['2 replicas (one left)', replicas.slice(0, 2), 5],
] as const) {
  const stop = { done: false };
  const running = active.map((m) => offer(m, stop));
  await sleep(1_000); // past the burst
  const from = received.n;
  const offeredFrom = offered.n;
  const started = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  const rate = (received.n - from) / elapsed;
  const offeredRate = (offered.n - offeredFrom) / elapsed;
  stop.done = true;
  await Promise.all(running);
  accuracy.push({
    replicas: label,
    'offered /s (planned)': `${offeredRate.toFixed(0)} (${active.length * 250})`,
    'received /s': rate.toFixed(1),
    'error vs 300/s': `${(((rate - 300) / 300) * 100).toFixed(1)}%`,
  });
  if (active.length === 3) await replicas[2]!.shutdown();
}
printTable('global limit of 300/s (in one process, 5 s after the first second)', accuracy);
await Promise.all(replicas.slice(0, 2).map((m) => m.shutdown()));

await redis.stop();
