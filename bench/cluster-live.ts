/**
 * Cluster-aware balancing, live (docs/performance.md "Cluster-aware balancing, live"): the real
 * thing that bench/cluster-balance.ts simulates. A real redis-server on a Unix socket in a temp
 * dir (test/support/redis.ts), 4 plugin instances as hand-written node:http servers in their own
 * processes (bench/cluster-live/instance.mjs: 2 calls at once, FIFO queue behind, each call
 * sleeps the time it asks for), and 3 host processes (bench/cluster-live/host.ts), each running
 * a plugwire Manager with a group over the 4 instances (HTTP transport) and receiving 1/3 of one
 * open-loop Poisson arrival stream (seeded: every row replays the same trace).
 *
 * The seed's three workloads (mixed 30% long, short-dominant 5%, long-dominant 80%; short ops
 * 150–250 ms, long 7–10 s, × 0.5–1.5) are time-scaled by SCALE (default 0.1: short 15–25 ms,
 * long 0.7–1.0 s) at 70% offered load (arrival rate = 0.7 × 8 slots / mean service time).
 * Rows: round robin; p2c, adaptive and least-connections each local-only, cluster-aware with
 * the default viewInterval (250 ms) and with a short one (25 ms: the default scaled like the
 * workload), and "one host" (one process receiving every arrival, same strategy). Latency is
 * measured from each call's scheduled arrival to its answer (queueing included); the first 10%
 * of the trace is not counted (the strategies learn). Each row runs PASSES times, the row order
 * reversed every other pass, so that the machine's noise shows as the spread between passes.
 *
 * Everything it starts (redis-server, instances, hosts, temp dir) is stopped and removed at the
 * end, on failure and on SIGINT/SIGTERM; the children also exit when the bench's process goes.
 *
 * Run: npm run bench -- cluster-live   (needs /usr/bin/redis-server; takes ~40 min)
 * Environment: BENCH_SECONDS (arrivals per row, default 25), BENCH_PASSES (default 2),
 * BENCH_LOAD (default 0.7), BENCH_SCALE (default 0.1), BENCH_VIEW_MS (cluster rows' viewInterval
 * values, default "250,25"), BENCH_WORKLOADS (names, comma-separated; default all),
 * BENCH_STRATEGIES (default "p2c,adaptive,least-connections").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis, type RedisServer } from '../test/support/redis.js';
import type { Arrival, DoneMessage, RowMessage } from './cluster-live/host.js';
import { mean, percentile, printTable } from './stats.js';
import { WORKLOADS, meanServiceMs, seedRequests, type Workload } from './workloads.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 25);
const PASSES = Number(process.env.BENCH_PASSES ?? 2);
const UTILISATION = Number(process.env.BENCH_LOAD ?? 0.7);
const SCALE = Number(process.env.BENCH_SCALE ?? 0.1);
const VIEW_MS = (process.env.BENCH_VIEW_MS ?? '250,25').split(',').map(Number);
const STRATEGIES = (process.env.BENCH_STRATEGIES ?? 'p2c,adaptive,least-connections').split(',');
const INSTANCES = 4;
const CONCURRENCY = 2;
const HOSTS = 3;

const LOADS = WORKLOADS.filter(
  (l) => process.env.BENCH_WORKLOADS?.split(',').includes(l.name) ?? true,
);

interface Trace {
  /** Per host: its share of the arrivals. */
  perHost: Arrival[][];
  all: Arrival[];
  long: Set<number>;
  rate: number;
}

/** Poisson arrivals for SECONDS at UTILISATION of capacity, the same draws as the simulation. */
function trace(load: Workload, seed: number): Trace {
  const rate = (UTILISATION * INSTANCES * CONCURRENCY) / (SCALE * meanServiceMs(load)); // per ms
  const perHost: Arrival[][] = Array.from({ length: HOSTS }, () => []);
  const all: Arrival[] = [];
  const long = new Set<number>();
  let index = 0;
  for (const request of seedRequests(load, rate, seed, HOSTS)) {
    if (request.arrival > SECONDS * 1_000) break;
    const ms = Math.round(request.service * SCALE);
    const arrival: Arrival = [index, Math.round(request.arrival * 10) / 10, request.operation, ms];
    perHost[request.host]!.push(arrival);
    all.push(arrival);
    if (request.long) long.add(index);
    index++;
  }
  return { perHost, all, long, rate: rate * 1_000 };
}

interface Row {
  label: string;
  strategy: string;
  hosts: number;
  viewInterval: number | null;
}

const ROWS: Row[] = [
  { label: 'round robin', strategy: 'round-robin', hosts: HOSTS, viewInterval: null },
  ...STRATEGIES.flatMap((strategy): Row[] => [
    { label: `${strategy}, local only`, strategy, hosts: HOSTS, viewInterval: null },
    ...VIEW_MS.map((ms) => ({
      label: `${strategy}, cluster-aware, view ${ms} ms`,
      strategy,
      hosts: HOSTS,
      viewInterval: ms,
    })),
    { label: `${strategy}, one host`, strategy, hosts: 1, viewInterval: null },
  ]),
];

interface Run {
  all: number[];
  short: number[];
  long: number[];
  errors: number;
  messages: string[];
  lagMean: number;
  lagMax: number;
  load: number;
  exchanges: number;
  exchangeFailures: number;
}

// ---- processes ------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
let redis: RedisServer | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
    await redis?.stop();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}
// Last resort (the async cleanup could not run): at least no child outlives us.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** An instance process; resolves with its endpoint. */
async function startInstance(id: string): Promise<string> {
  const child = track(
    spawn(process.execPath, [here('./cluster-live/instance.mjs'), id], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`instance ${id} exited (${code})`)));
  });
  return (JSON.parse(line) as { endpoint: string }).endpoint;
}

interface Host {
  child: ChildProcess;
  /** Resolves with the next message of `type` (rejects if the host fails or exits). */
  next<T>(type: string): Promise<T>;
}

async function startHost(id: string): Promise<Host> {
  const child = track(
    spawn(
      process.execPath,
      ['--loader', 'ts-node/esm', '--no-warnings', here('./cluster-live/host.ts'), id],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
      },
    ),
  );
  const waiting = new Map<string, { resolve(m: unknown): void; reject(e: Error): void }>();
  const inbox = new Map<string, unknown>();
  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  child.on('message', (message: { type: string; error?: string }) => {
    if (message.type === 'failed') return failAll(new Error(`host ${id}: ${message.error}`));
    const w = waiting.get(message.type);
    if (w === undefined) inbox.set(message.type, message);
    else {
      waiting.delete(message.type);
      w.resolve(message);
    }
  });
  child.on('exit', (code) => failAll(new Error(`host ${id} exited (${code})`)));
  const host: Host = {
    child,
    next: <T>(type: string) => {
      if (inbox.has(type)) {
        const message = inbox.get(type);
        inbox.delete(type);
        return Promise.resolve(message as T);
      }
      return new Promise<T>((resolve, reject) =>
        waiting.set(type, { resolve: resolve as (m: unknown) => void, reject }),
      );
    },
  };
  await host.next('started');
  return host;
}

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the rows -------------------------------------------------------------------------------

let rowCounter = 0;

async function runRow(
  row: Row,
  t: Trace,
  hosts: Host[],
  endpoints: string[],
  url: string,
): Promise<Run> {
  const used = hosts.slice(0, row.hosts);
  const namespace = `live${++rowCounter}`;
  used.forEach((host, h) => {
    const message: RowMessage = {
      type: 'row',
      strategy: row.strategy,
      endpoints,
      cluster:
        row.viewInterval === null ? null : { url, namespace, viewInterval: row.viewInterval },
      peers: row.hosts - 1,
      arrivals: row.hosts === 1 ? t.all : t.perHost[h]!,
    };
    host.child.send(message);
  });
  await within(Promise.all(used.map((h) => h.next('ready'))), 30_000, `${row.label}: ready`);
  const startAt = Date.now() + 300;
  for (const host of used) host.child.send({ type: 'go', startAt });
  const done = await within(
    Promise.all(used.map((h) => h.next<DoneMessage>('done'))),
    SECONDS * 1_000 + 120_000,
    `${row.label}: done`,
  );
  const warmup = Math.floor(t.all.length / 10);
  const run: Run = {
    all: [],
    short: [],
    long: [],
    errors: 0,
    messages: [],
    lagMean: mean(done.map((d) => d.lagMean)),
    lagMax: Math.max(...done.map((d) => d.lagMax)),
    load: loadavg()[0]!,
    exchanges: 0,
    exchangeFailures: 0,
  };
  for (const d of done) {
    run.messages.push(...d.errors);
    run.exchanges += d.view?.exchanges ?? 0;
    run.exchangeFailures += d.view?.failures ?? 0;
    for (const [index, latency, ok] of d.calls) {
      if (!ok) run.errors++;
      if (index < warmup) continue;
      run.all.push(latency);
      (t.long.has(index) ? run.long : run.short).push(latency);
    }
  }
  // The instances are idle again (every call answered); let the sockets settle.
  await sleep(300);
  return run;
}

const seconds = (ms: number) => (ms / 1_000).toFixed(3);
const percent = (value: number, base: number) => {
  const change = Math.round((1000 * (value - base)) / base) / 10;
  return change === 0 ? '0%' : `${change < 0 ? '−' : '+'}${Math.abs(change).toFixed(1)}%`;
};

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  redis = await startRedis();
  const endpoints = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => startInstance(`i${i + 1}`)),
  );
  const hosts = await Promise.all(Array.from({ length: HOSTS }, (_, h) => startHost(`h${h + 1}`)));
  for (const load of LOADS) {
    const t = trace(load, 1_011);
    const runs = new Map<Row, Run[]>(ROWS.map((r) => [r, []]));
    for (let pass = 0; pass < PASSES; pass++) {
      const order = pass % 2 === 0 ? ROWS : [...ROWS].reverse();
      for (const row of order) {
        const run = await runRow(row, t, hosts, endpoints, redis.url);
        runs.get(row)!.push(run);
        console.error(
          `${load.name} pass ${pass + 1} ${row.label}: mean ${seconds(mean(run.all))} s, p99 ${seconds(percentile(run.all, 0.99))} s, errors ${run.errors}, load ${run.load.toFixed(1)}`,
        );
      }
    }
    const meanOf = (row: Row) => mean(runs.get(row)!.map((r) => mean(r.all)));
    const rr = meanOf(ROWS[0]!);
    printTable(
      `${load.name}: ${HOSTS} hosts → ${INSTANCES} instances × ${CONCURRENCY}, ${load.longShare * 100}% long, ${Math.round(UTILISATION * 100)}% load (${t.rate.toFixed(1)} calls/s, ${t.all.length} calls per row, first ${Math.floor(t.all.length / 10)} not counted), ${PASSES} passes`,
      ROWS.map((row) => {
        const rs = runs.get(row)!;
        const avg = meanOf(row);
        const oneHost = ROWS.find((r) => r.strategy === row.strategy && r.hosts === 1);
        const local = ROWS.find(
          (r) => r.strategy === row.strategy && r.hosts === HOSTS && r.viewInterval === null,
        );
        return {
          row: row.label,
          'mean s (passes)': `${seconds(avg)} (${rs.map((r) => seconds(mean(r.all))).join(', ')})`,
          'p99 s (passes)': `${seconds(mean(rs.map((r) => percentile(r.all, 0.99))))} (${rs.map((r) => seconds(percentile(r.all, 0.99))).join(', ')})`,
          'vs RR': row === ROWS[0] ? '—' : percent(avg, rr),
          'vs local':
            row.viewInterval === null || local === undefined ? '—' : percent(avg, meanOf(local)),
          'vs one host':
            oneHost === undefined || row.hosts === 1 ? '—' : percent(avg, meanOf(oneHost)),
          'short / long mean s': `${seconds(mean(rs.flatMap((r) => r.short)))} / ${seconds(mean(rs.flatMap((r) => r.long)))}`,
          errors: rs.reduce((n, r) => n + r.errors, 0),
          'start lag mean / max ms': `${mean(rs.map((r) => r.lagMean)).toFixed(1)} / ${Math.max(...rs.map((r) => r.lagMax)).toFixed(0)}`,
          'exchanges (failed)':
            row.viewInterval === null
              ? '—'
              : `${rs.reduce((n, r) => n + r.exchanges, 0)} (${rs.reduce((n, r) => n + r.exchangeFailures, 0)})`,
          'load avg': rs.map((r) => r.load.toFixed(1)).join(', '),
        };
      }),
    );
    const messages = new Set([...runs.values()].flatMap((rs) => rs.flatMap((r) => r.messages)));
    for (const message of messages) console.log(`error: ${message}`);
  }
  console.log(
    `\nScale ×${SCALE} (short ops ${150 * SCALE}–${250 * SCALE} ms, long ${7_000 * SCALE}–${10_000 * SCALE} ms, each × 0.5–1.5), ${SECONDS} s of arrivals per row; ran ${((performance.now() - started) / 60_000).toFixed(1)} min; load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  for (const host of hosts) host.child.send({ type: 'exit' });
}

try {
  await main();
} finally {
  await cleanup();
}
