/**
 * Mixed workload: short and long operations over 2 and 4 plugin instances, each running at most
 * CONCURRENCY requests at once and queueing the rest (FIFO). Mean and p99 latency (queueing
 * included) per strategy, for mixed, short-dominant and long-dominant loads, compared with
 * round robin.
 *
 * A discrete-event simulation on a virtual clock: the strategies, `GroupRoute` and the peak-EWMA
 * trackers run their real code, but time is simulated, so hours of traffic take milliseconds, the
 * result does not depend on the machine, and every strategy replays the same request traces
 * (same arrivals, operations and service times; seeded). Each scenario runs SEEDS independent
 * traces; means and p99 pool them, and "range" is the lowest and highest change against round
 * robin over the traces, to show how much of a difference is noise.
 *
 * Two reference rows are not strategies but limits no dispatcher of this model beats by much:
 * one queue shared by every instance (a call waits for the first free slot anywhere, which no
 * balancer that must choose an instance on arrival can do), in arrival order, and with short
 * operations first (knowing each call's class in advance). The title gives the floor: the mean
 * with no queueing at all, i.e. the mean service time.
 *
 * Reference: dify-plugin-daemon's response-time-aware balancer reported, over two nodes and
 * against round robin, mean latency cut 44% (mixed), 40% (short-dominant), 36% (long-dominant),
 * without saying the sizes, mix or load. See docs/balancing.md for what this model can reach.
 *
 * Run: node --loader ts-node/esm bench/balance-mixed.ts
 * Environment: BENCH_REQUESTS (per trace, default 20000), BENCH_SEEDS (traces, default 5),
 * BENCH_LOAD (offered load as a share of capacity, default 0.7), BENCH_SLOWDOWN (service-time
 * factor of the first instance, default 1: all alike), BENCH_INSTANCES (group sizes, default "2,4";
 * above 32 least-connections, least-latency and adaptive sample instead of scanning),
 * BENCH_CHOICES (extra least-connections and least-latency rows with these `choices`, e.g. "2,4").
 */
import { GroupRoute } from '../src/balance/GroupRoute.js';
import { seededRandom } from '../src/balance/random.js';
import { balancerNames, createBalancer } from '../src/balance/registry.js';
import { FakeMember, ManualClock } from '../src/balance/testing/fake.js';
import { mean, percentile, printTable } from './stats.js';
import {
  LONG_OPS,
  SHORT_OPS,
  WORKLOADS as LOADS,
  meanServiceMs,
  seedRequests,
} from './workloads.js';
import type { SeedRequest as Request, Workload } from './workloads.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 5);
const WARMUP = Math.floor(REQUESTS / 10); // not counted: strategies are still learning
const CONCURRENCY = 2; // requests an instance runs at once; the rest wait in its queue
const UTILISATION = Number(process.env.BENCH_LOAD ?? 0.7); // offered load / cluster capacity
const SLOWDOWN = Number(process.env.BENCH_SLOWDOWN ?? 1); // the first instance's service factor
const INSTANCES = (process.env.BENCH_INSTANCES ?? '2,4').split(',').map(Number);

const speedOf = (instance: number) => (instance === 0 ? SLOWDOWN : 1);

/** One trace: Poisson arrivals at UTILISATION of the cluster's capacity. */
function trace(load: Workload, instances: number, seed: number): Request[] {
  let capacity = 0; // calls per ms the cluster completes when every slot is busy
  for (let i = 0; i < instances; i++) capacity += CONCURRENCY / (meanServiceMs(load) * speedOf(i));
  const requests: Request[] = [];
  for (const request of seedRequests(load, UTILISATION * capacity, seed)) {
    if (requests.length === REQUESTS) break;
    requests.push(request);
  }
  return requests;
}

/** A min-heap of timed events. */
class Events {
  private readonly heap: Array<{ time: number; run: () => void }> = [];
  push(time: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ time, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.time <= heap[i]!.time) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }
  pop(): { time: number; run: () => void } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]!.time < heap[m]!.time) m = l;
        if (r < heap.length && heap[r]!.time < heap[m]!.time) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  }
  run(clock: ManualClock): void {
    for (let event = this.pop(); event !== undefined; event = this.pop()) {
      clock.time = event.time;
      event.run();
    }
  }
}

/** One instance: CONCURRENCY workers and a FIFO queue. */
class Instance extends FakeMember {
  running = 0;
  readonly queue: Array<() => void> = [];
  constructor(
    name: string,
    clock: ManualClock,
    readonly speed: number,
  ) {
    super(name, { now: clock.now });
  }
}

interface Result {
  all: number[];
  short: number[];
  long: number[];
}

function record(result: Result, request: Request, index: number, latency: number): void {
  if (index < WARMUP) return;
  result.all.push(latency);
  (request.long ? result.long : result.short).push(latency);
}

/**
 * Every registered strategy with default options, plus adaptive with looser and strict roles,
 * plus least-connections and least-latency with each of BENCH_CHOICES (members compared per pick
 * in groups of more than 32; e.g. "2,4").
 */
const VARIANTS: Array<{ label: string; strategy: string; options: Record<string, unknown> }> = [
  ...balancerNames().map((strategy) => ({ label: strategy, strategy, options: {} })),
  { label: 'adaptive, spill: 1', strategy: 'adaptive', options: { spill: 1 } },
  {
    label: 'adaptive, spill: 1000 (strict roles)',
    strategy: 'adaptive',
    options: { spill: 1_000 },
  },
  ...(process.env.BENCH_CHOICES?.split(',').map(Number) ?? []).flatMap((choices) =>
    ['least-connections', 'least-latency'].map((strategy) => ({
      label: `${strategy}, choices: ${choices}`,
      strategy,
      options: { choices },
    })),
  ),
];

function simulate(
  strategy: string,
  options: Record<string, unknown>,
  requests: Request[],
  instances: number,
): Result {
  const clock = new ManualClock();
  const members = Array.from(
    { length: instances },
    (_, i) => new Instance(`plugin-${i}`, clock, speedOf(i)),
  );
  const route = new GroupRoute(
    'bench',
    members,
    createBalancer(strategy, options, { now: clock.now, random: seededRandom(7) }),
  );
  const events = new Events();
  const result: Result = { all: [], short: [], long: [] };

  const start = (instance: Instance, request: Request, index: number) => {
    instance.running++;
    events.push(clock.time + request.service * instance.speed, () => {
      instance.running--;
      instance.inFlight--;
      const latency = clock.time - request.arrival;
      route.observe(instance, request.operation, latency, true);
      record(result, request, index, latency);
      instance.queue.shift()?.();
    });
  };

  requests.forEach((request, index) => {
    events.push(request.arrival, () => {
      const instance = route.pick({
        key: `req-${index}`,
        operation: request.operation,
        tried: [],
      })!;
      instance.inFlight++;
      if (instance.running < CONCURRENCY) start(instance, request, index);
      else instance.queue.push(() => start(instance, request, index));
    });
  });
  events.run(clock);
  return result;
}

/**
 * The reference: one queue shared by every slot of every instance (late binding: a call takes
 * the first slot that frees up, the fastest instance's first). `shortFirst` serves waiting short
 * operations before long ones (non-preemptive), knowing each call's class from the trace.
 */
function sharedQueue(requests: Request[], instances: number, shortFirst: boolean): Result {
  const clock = new ManualClock();
  const events = new Events();
  const result: Result = { all: [], short: [], long: [] };
  const idle: number[] = []; // speeds of the free slots, fastest last
  for (let i = instances - 1; i >= 0; i--) {
    for (let s = 0; s < CONCURRENCY; s++) idle.push(speedOf(i));
  }
  idle.sort((a, b) => b - a);
  const waiting: Array<Array<{ request: Request; index: number }>> = [[], []]; // short, long
  const heads = [0, 0];
  const next = () => {
    const [s, l] = [waiting[0]!, waiting[1]!];
    const hasShort = heads[0]! < s.length;
    const hasLong = heads[1]! < l.length;
    if (!hasShort && !hasLong) return undefined;
    let queue = hasShort ? 0 : 1;
    if (!shortFirst && hasShort && hasLong) {
      queue = s[heads[0]!]!.request.arrival <= l[heads[1]!]!.request.arrival ? 0 : 1;
    }
    return waiting[queue]![heads[queue]!++];
  };
  const dispatch = () => {
    while (idle.length > 0) {
      const call = next();
      if (call === undefined) return;
      const speed = idle.pop()!;
      events.push(clock.time + call.request.service * speed, () => {
        record(result, call.request, call.index, clock.time - call.request.arrival);
        idle.push(speed);
        idle.sort((a, b) => b - a);
        dispatch();
      });
    }
  };
  requests.forEach((request, index) => {
    events.push(request.arrival, () => {
      waiting[request.long ? 1 : 0]!.push({ request, index });
      dispatch();
    });
  });
  events.run(clock);
  return result;
}

const seconds = (ms: number) => (ms / 1_000).toFixed(2);
const percent = (value: number, base: number) => {
  const change = Math.round((100 * (value - base)) / base);
  return change === 0 ? '0%' : `${change < 0 ? '−' : '+'}${Math.abs(change)}%`;
};

interface Row {
  label: string;
  runs: Result[];
}

const ROWS: Array<{ label: string; run: (requests: Request[], instances: number) => Result }> = [
  ...VARIANTS.map(({ label, strategy, options }) => ({
    label,
    run: (requests: Request[], instances: number) =>
      simulate(strategy, options, requests, instances),
  })),
  {
    label: '(limit) shared queue, in order',
    run: (requests, instances) => sharedQueue(requests, instances, false),
  },
  {
    label: '(limit) shared queue, short first',
    run: (requests, instances) => sharedQueue(requests, instances, true),
  },
];

const started = performance.now();
for (const instances of INSTANCES) {
  for (const load of LOADS) {
    const traces = Array.from({ length: SEEDS }, (_, s) =>
      trace(load, instances, 1_000 * (s + 1) + instances),
    );
    const rows: Row[] = ROWS.map(({ label, run }) => ({
      label,
      runs: traces.map((requests) => run(requests, instances)),
    }));
    const baseline = rows.find((row) => row.label === 'round-robin')!;
    const baseMeans = baseline.runs.map((run) => mean(run.all));
    const baseMean = mean(baseline.runs.flatMap((run) => run.all));
    printTable(
      `${load.name}: ${instances} instances × ${CONCURRENCY} concurrent, ${load.longShare * 100}% long, ${Math.round(UTILISATION * 100)}% load` +
        ` (floor without queueing: ${seconds(meanServiceMs(load))} s, ${percent(meanServiceMs(load), baseMean)})`,
      rows.map(({ label, runs }) => {
        const all = runs.flatMap((run) => run.all);
        const short = runs.flatMap((run) => run.short);
        const long = runs.flatMap((run) => run.long);
        const changes = runs.map((run, i) => (mean(run.all) - baseMeans[i]!) / baseMeans[i]!);
        const avg = mean(all);
        return {
          strategy: label,
          'mean s': seconds(avg),
          'p99 s': seconds(percentile(all, 0.99)),
          'mean vs RR': label === 'round-robin' ? '—' : percent(avg, baseMean),
          range: `${percent(1 + Math.min(...changes), 1)} … ${percent(1 + Math.max(...changes), 1)}`,
          'short mean s': seconds(mean(short)),
          'short p99 s': seconds(percentile(short, 0.99)),
          'long mean s': seconds(mean(long)),
        };
      }),
    );
  }
}
console.log(
  `\n${SEEDS} traces of ${REQUESTS.toLocaleString('en')} requests per scenario (first ${WARMUP.toLocaleString('en')} of each not counted), latency includes queueing. Short ops ${Object.values(SHORT_OPS).join('/')} ms, long ops ${Object.values(LONG_OPS).join('/')} ms (× 0.5–1.5)${SLOWDOWN === 1 ? '' : `; plugin-0 runs everything ${SLOWDOWN}× slower`}. Simulated in ${((performance.now() - started) / 1_000).toFixed(1)} s.`,
);
