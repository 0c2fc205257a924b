/**
 * The seed's workloads (../shared/reference/002: dify-plugin-cluster), shared by the balancing
 * benchmarks (bench/balance-mixed.ts, bench/cluster-balance.ts, bench/cluster-live.ts) so that
 * every one of them replays the same operations and the same random draws.
 */
import { seededRandom } from '../src/balance/random.js';
import { mean } from './stats.js';

/** Operations and their mean service time, ms (each request: mean × uniform 0.5–1.5). */
export const SHORT_OPS = { search: 150, lookup: 250, validate: 200 };
export const LONG_OPS = { render: 7_000, export: 10_000 };

export interface Workload {
  name: string;
  /** Share of requests that are long operations. */
  longShare: number;
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'mixed', longShare: 0.3 },
  { name: 'short-dominant', longShare: 0.05 },
  { name: 'long-dominant', longShare: 0.8 },
];

/** A workload's mean service time on an instance of speed 1, ms. */
export function meanServiceMs(workload: Workload): number {
  return (
    workload.longShare * mean(Object.values(LONG_OPS)) +
    (1 - workload.longShare) * mean(Object.values(SHORT_OPS))
  );
}

/** One request of a trace. */
export interface SeedRequest {
  /** Arrival time, ms from the trace's start. */
  arrival: number;
  operation: string;
  long: boolean;
  /** Service time on an instance of speed 1, ms. */
  service: number;
  /** The host replica it reaches (0 when `hosts` is not given). */
  host: number;
}

/**
 * Poisson arrivals at `ratePerMs`, endless (the caller stops): per request, in this order, the
 * gap, long or short, the operation, its service time and, when `hosts` is given, the replica
 * it reaches at random.
 */
export function* seedRequests(
  workload: Workload,
  ratePerMs: number,
  seed: number,
  hosts?: number,
): Generator<SeedRequest> {
  const random = seededRandom(seed);
  let time = 0;
  for (;;) {
    time += -Math.log(1 - random()) / ratePerMs;
    const long = random() < workload.longShare;
    const ops = long ? LONG_OPS : SHORT_OPS;
    const names = Object.keys(ops) as Array<keyof typeof ops>;
    const operation = names[Math.floor(random() * names.length)]!;
    const service = ops[operation] * (0.5 + random());
    const host = hosts === undefined ? 0 : Math.floor(random() * hosts);
    yield { arrival: time, operation, long, service, host };
  }
}
