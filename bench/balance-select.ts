/**
 * Selection cost of each load-balancing strategy: ns per `GroupRoute.pick()` at 3, 100 and
 * 1,000 members, all available, every member busy (1–4 in flight, so least-connections and
 * least-latency cannot stop at an idle member) and measured (peak-EWMA 5–50 ms).
 *
 * Each cell: a warm-up, then RUNS timed rounds sized to ~20 ms; the median ns/pick is reported.
 * Run: node --loader ts-node/esm bench/balance-select.ts
 * Environment: BENCH_RUNS (default 7), BENCH_SIZES (default "3,100,1000"), BENCH_STRATEGIES
 * (default: every registered one).
 */
import { GroupRoute, type GroupRequest } from '../src/balance/GroupRoute.js';
import { seededRandom } from '../src/balance/random.js';
import { balancerNames, createBalancer } from '../src/balance/registry.js';
import type { AdaptiveBalancer } from '../src/balance/strategies/adaptive.js';
import { FakeMember } from '../src/balance/testing/fake.js';
import { median, printTable } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SIZES = (process.env.BENCH_SIZES ?? '3,100,1000').split(',').map(Number);
const STRATEGIES = process.env.BENCH_STRATEGIES?.split(',') ?? balancerNames();
const TARGET_NS = 20e6;

const random = seededRandom(42);
const KEYS = Array.from({ length: 1_024 }, (_, i) => `user-${i}`);
const OPERATIONS = ['search', 'lookup', 'render', 'export'];
const requests: Array<GroupRequest> = KEYS.map((key, i) => ({
  key,
  operation: OPERATIONS[i % OPERATIONS.length],
  tried: [],
}));

function groupOf(strategy: string, size: number): GroupRoute<FakeMember> {
  const members = Array.from({ length: size }, (_, i) => {
    const member = new FakeMember(`plugin-${i}`, { weight: 1 + (i % 3), priority: i % 2 });
    member.latency.observe(5 + random() * 45);
    member.inFlight = 1 + Math.floor(random() * 4);
    return member;
  });
  const balancer = createBalancer(strategy, {}, { random });
  if (strategy === 'adaptive') {
    const adaptive = balancer as AdaptiveBalancer;
    for (const op of OPERATIONS) {
      for (let i = 0; i < 5; i++)
        adaptive.observe(members[0]!, op, op.length > 5 ? 9_000 : 30, true);
    }
  }
  return new GroupRoute('bench', members, balancer);
}

function timeRun(route: GroupRoute<FakeMember>, iterations: number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    sink += route.pick(requests[i & 1_023]!)!.inFlight;
  }
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  if (sink < 0) console.log(sink); // keep the loop observable
  return ns;
}

function measure(strategy: string, size: number): number {
  const route = groupOf(strategy, size);
  const probe = timeRun(route, 2_000); // warm-up and calibration
  const iterations = Math.max(2_000, Math.min(2_000_000, Math.round(TARGET_NS / probe)));
  timeRun(route, iterations);
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(timeRun(route, iterations));
  return median(runs);
}

const rows = STRATEGIES.map((strategy) => {
  const row: Record<string, string | number> = { strategy };
  for (const size of SIZES)
    row[`${size.toLocaleString('en')} members (ns/pick)`] = Math.round(measure(strategy, size));
  return row;
});
printTable(`Selection cost per pick (median of ${RUNS} runs, Node ${process.version})`, rows);
