/**
 * Cluster-aware balancing (docs/cluster.md#shared-load-view): 3 host replicas calling the same 4
 * plugin instances, each replica with its own strategy and its own view, for the seed's three
 * workloads (mixed, short-dominant, long-dominant; see bench/balance-mixed.ts). Mean and p99
 * latency (queueing included) of:
 *
 * - round robin (3 replicas);
 * - p2c, adaptive and least-connections with each replica alone (local view only);
 * - the same with the shared load view: every VIEW_MS each replica publishes what
 *   `LoadView` publishes (`publishGroup`: per member in flight, outstanding work, latency; per
 *   operation its recent latencies) and combines the others' last views (`applyViews`), the very
 *   functions cluster mode runs; the replicas' exchanges are staggered over the interval;
 * - the reference: one host that sees all the traffic (the same strategy, one view).
 *
 * A discrete-event simulation on a virtual clock, as bench/balance-mixed.ts: real strategy code,
 * simulated time, so the figures do not depend on a loaded machine, and every row replays the
 * same traces. What it does not model is Redis' round trip (a view is read the moment it is
 * written); a real view is older by up to one round trip (≪ VIEW_MS).
 *
 * Run: node --loader ts-node/esm bench/cluster-balance.ts
 * Environment: BENCH_REQUESTS (per trace, default 20000), BENCH_SEEDS (default 5), BENCH_LOAD
 * (default 0.7), BENCH_VIEW_MS (default 250, the default viewInterval).
 */
import { GroupRoute } from '../src/balance/GroupRoute.js';
import { seededRandom } from '../src/balance/random.js';
import { createBalancer } from '../src/balance/registry.js';
import { FakeMember, ManualClock } from '../src/balance/testing/fake.js';
import { applyViews, publishGroup, type PublishedGroup } from '../src/cluster/LoadView.js';
import { mean, percentile, printTable } from './stats.js';
import { WORKLOADS as LOADS, meanServiceMs, seedRequests } from './workloads.js';
import type { SeedRequest as Request, Workload } from './workloads.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 5);
const WARMUP = Math.floor(REQUESTS / 10);
const CONCURRENCY = 2;
const UTILISATION = Number(process.env.BENCH_LOAD ?? 0.7);
const VIEW_MS = Number(process.env.BENCH_VIEW_MS ?? 250);
const INSTANCES = 4;
const HOSTS = 3;

/** Poisson arrivals at UTILISATION of capacity; each request reaches one replica at random. */
function trace(load: Workload, seed: number): Request[] {
  const rate = (UTILISATION * INSTANCES * CONCURRENCY) / meanServiceMs(load);
  const out: Request[] = [];
  for (const request of seedRequests(load, rate, seed, HOSTS)) {
    if (out.length === REQUESTS) break;
    out.push(request);
  }
  return out;
}

class Events {
  private readonly heap: Array<{ time: number; seq: number; run: () => void }> = [];
  private seq = 0;
  push(time: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ time, seq: this.seq++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[p]!)) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  }
  private less(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }
  run(clock: ManualClock, until: () => boolean): void {
    const heap = this.heap;
    while (heap.length > 0 && !until()) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[m], heap[i]] = [heap[i]!, heap[m]!];
          i = m;
        }
      }
      clock.time = top.time;
      top.run();
    }
  }
}

interface Result {
  all: number[];
  short: number[];
  long: number[];
}

/** `hosts` replicas with `strategy`; `shared`: they exchange views every VIEW_MS. */
function simulate(strategy: string, requests: Request[], hosts: number, shared: boolean): Result {
  const clock = new ManualClock();
  const events = new Events();
  const result: Result = { all: [], short: [], long: [] };
  // The instances: slots and a FIFO queue each.
  const running = new Array<number>(INSTANCES).fill(0);
  const queues = Array.from({ length: INSTANCES }, () => [] as Array<() => void>);
  // Each replica: its own members (its in-flight counts, latency trackers) and strategy.
  const replicas = Array.from({ length: hosts }, (_, h) => {
    const members = Array.from(
      { length: INSTANCES },
      (_, i) => new FakeMember(`plugin-${i}`, { now: clock.now }),
    );
    const balancer = createBalancer(strategy, {}, { now: clock.now, random: seededRandom(7 + h) });
    return { members, route: new GroupRoute('bench', members, balancer) };
  });
  let done = 0;
  const finished = () => done === requests.length;

  const start = (instance: number, request: Request, index: number, member: FakeMember) => {
    running[instance]!++;
    events.push(clock.time + request.service, () => {
      running[instance]!--;
      member.inFlight--;
      const latency = clock.time - request.arrival;
      replicas[request.host % hosts]!.route.observe(member, request.operation, latency, true);
      if (index >= WARMUP) {
        result.all.push(latency);
        (request.long ? result.long : result.short).push(latency);
      }
      done++;
      queues[instance]!.shift()?.();
    });
  };
  requests.forEach((request, index) => {
    events.push(request.arrival, () => {
      const replica = replicas[request.host % hosts]!;
      const member = replica.route.pick({
        key: undefined,
        operation: request.operation,
        tried: [],
      })!;
      const instance = replica.members.indexOf(member);
      member.inFlight++;
      if (running[instance]! < CONCURRENCY) start(instance, request, index, member);
      else queues[instance]!.push(() => start(instance, request, index, member));
    });
  });
  if (shared && hosts > 1) {
    // Each replica's exchange: publish its view, read the others' last ones (staggered).
    const views: Array<PublishedGroup | undefined> = new Array(hosts).fill(undefined);
    const group = (h: number) => ({
      name: 'bench',
      members: replicas[h]!.members,
      balancer: replicas[h]!.route.balancer,
    });
    for (let h = 0; h < hosts; h++) {
      const exchange = () => {
        views[h] = publishGroup(group(h));
        applyViews(
          group(h),
          views.filter((v, k): v is PublishedGroup => k !== h && v !== undefined),
        );
        if (!finished()) events.push(clock.time + VIEW_MS, exchange);
      };
      events.push((h * VIEW_MS) / hosts, exchange);
    }
  }
  events.run(clock, finished);
  return result;
}

const seconds = (ms: number) => (ms / 1_000).toFixed(2);
const percent = (value: number, base: number) => {
  const change = Math.round((100 * (value - base)) / base);
  return change === 0 ? '0%' : `${change < 0 ? '−' : '+'}${Math.abs(change)}%`;
};

const ROWS: Array<{ label: string; strategy: string; hosts: number; shared: boolean }> = [
  { label: 'round-robin, 3 replicas', strategy: 'round-robin', hosts: HOSTS, shared: false },
  ...['p2c', 'adaptive', 'least-connections'].flatMap((strategy) => [
    { label: `${strategy}, 3 replicas, local only`, strategy, hosts: HOSTS, shared: false },
    { label: `${strategy}, 3 replicas, shared view`, strategy, hosts: HOSTS, shared: true },
    { label: `${strategy}, one host sees all`, strategy, hosts: 1, shared: false },
  ]),
];

const started = performance.now();
for (const load of LOADS) {
  const traces = Array.from({ length: SEEDS }, (_, s) => trace(load, 1_000 * (s + 1) + 11));
  const rows = ROWS.map((row) => ({
    ...row,
    runs: traces.map((t) => simulate(row.strategy, t, row.hosts, row.shared)),
  }));
  const baseMean = mean(rows[0]!.runs.flatMap((r) => r.all));
  const oneHost = new Map(
    rows.filter((r) => r.hosts === 1).map((r) => [r.strategy, mean(r.runs.flatMap((x) => x.all))]),
  );
  printTable(
    `${load.name}: ${HOSTS} replicas → ${INSTANCES} instances × ${CONCURRENCY}, ${load.longShare * 100}% long, ${Math.round(UTILISATION * 100)}% load, views every ${VIEW_MS} ms`,
    rows.map((row) => {
      const all = row.runs.flatMap((r) => r.all);
      const avg = mean(all);
      const one = oneHost.get(row.strategy);
      return {
        strategy: row.label,
        'mean s': seconds(avg),
        'p99 s': seconds(percentile(all, 0.99)),
        'mean vs RR': row === rows[0] ? '—' : percent(avg, baseMean),
        'mean vs one host': one === undefined || row.hosts === 1 ? '—' : percent(avg, one),
        'short mean s': seconds(mean(row.runs.flatMap((r) => r.short))),
        'long mean s': seconds(mean(row.runs.flatMap((r) => r.long))),
      };
    }),
  );
}
console.log(
  `\n${SEEDS} traces of ${REQUESTS.toLocaleString('en')} requests per workload (first ${WARMUP.toLocaleString('en')} not counted), each request reaching one of ${HOSTS} replicas at random. Simulated in ${((performance.now() - started) / 1_000).toFixed(1)} s.`,
);
