import { OptionReader } from '../options.js';
import { DEFAULT_MAX_OPERATIONS, DEFAULT_WINDOW, OperationStats } from '../operations.js';
import { totalInFlight, type SharedOperation, type SharesLoad } from '../remote.js';
import { DEFAULT_CHOICES, Sample, SCAN_LIMIT } from '../sample.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';
import { byPriority } from './priority.js';
import { RoundRobinBalancer } from './round-robin.js';

/** Options of {@link AdaptiveBalancer}. */
export interface AdaptiveOptions {
  /** Recent latencies kept per operation (default 5). */
  window?: number | undefined;
  /** Mean latency, ms, from which an operation counts as long (default 5000). */
  threshold?: number | undefined;
  /** Operations remembered; the oldest is forgotten past this (default 1000). */
  maxOperations?: number | undefined;
  /**
   * Imbalance, in requests in flight, at which the roles give way (default 2): a short call
   * leaves the primary for the least busy member when the primary has `spill` more in flight;
   * a long call goes to the primary when the least busy other member has `spill` more. A large
   * value (1000) keeps the roles strict, as in the published design.
   */
  spill?: number | undefined;
}

export { DEFAULT_MAX_OPERATIONS, DEFAULT_WINDOW };
export const DEFAULT_THRESHOLD_MS = 5_000;
export const DEFAULT_SPILL = 2;

/** How {@link AdaptiveBalancer} sees an operation. */
export type OperationClass = 'short' | 'long' | undefined;

// In flight on the member, from every replica in cluster mode.
const inFlight = totalInFlight;

/**
 * `adaptive`: response-time-aware routing after the dify-plugin-daemon cluster balancer.
 *
 * Each operation (`ExecuteOptions.operation`) keeps a sliding window of its recent successful
 * latencies (`window`, default 5); a mean of `threshold` (default 5000 ms) or more makes it
 * long, otherwise short.
 * - Short operations stay on the primary: the first accepted member by priority (highest
 *   first), then member order. Frequent, latency-sensitive calls do not queue behind long ones.
 * - Long operations spread over the other members, the least busy first (fewest in flight, ties
 *   in turn). When every other member is busy and the primary is idle, the primary takes it;
 *   when all are busy, the least busy other member does, sparing the primary for short calls.
 *   In groups of more than 32 members ({@link SCAN_LIMIT}) "least busy" is the least busy of 8
 *   accepted others drawn at random (see {@link Sample}), so a pick is O(1); smaller groups are
 *   scanned exactly.
 * - Busy-aware both ways (`spill`, default 2): the roles give way when keeping them would queue
 *   calls on one member while another has room. A short call goes to the least busy member
 *   when the primary has `spill` more in flight; a long call goes to the primary when the
 *   least busy other member has `spill` more than the primary. Without this, a primary with
 *   more short traffic than it can run, or long traffic beyond what the others can run, queues
 *   without bound (the published design assumes neither happens; bench/balance-mixed.ts shows
 *   both).
 * - An operation with no samples yet, or a call without `operation`, cannot be classified:
 *   round robin.
 *
 * If the primary is not accepted (down, already tried), the next member in order becomes the
 * primary for that pick: failover keeps the same shape.
 *
 * Cluster mode (docs/cluster.md): "in flight" counts the attempts the other replicas last
 * published, and an operation's mean merges their recent latencies with this replica's.
 */
export class AdaptiveBalancer implements Balancer, SharesLoad {
  private readonly operations: OperationStats;
  private readonly keyless = new RoundRobinBalancer();
  private members: readonly Candidate[] | undefined;
  private order: Uint32Array = new Uint32Array(0);
  private start = 0;
  private readonly threshold: number;
  private readonly spill: number;
  private readonly sample: Sample;

  /** @param random uniform random numbers in [0, 1), for groups larger than {@link SCAN_LIMIT} */
  constructor(options: AdaptiveOptions = {}, random: () => number = Math.random) {
    this.sample = new Sample(DEFAULT_CHOICES, random);
    this.spill = options.spill ?? DEFAULT_SPILL;
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD_MS;
    this.operations = new OperationStats(
      options.window ?? DEFAULT_WINDOW,
      options.maxOperations ?? DEFAULT_MAX_OPERATIONS,
    );
  }

  /** Whether `operation` is long or short now; undefined when it has no samples. */
  classify(operation: string | undefined): OperationClass {
    const mean = this.operations.mean(operation);
    if (mean === undefined) return undefined;
    return mean >= this.threshold ? 'long' : 'short';
  }

  update(members: readonly Candidate[]): void {
    this.members = members;
    this.order = byPriority(members);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const kind = this.classify(request.operation);
    if (kind === undefined) return this.keyless.pick(candidates, request);
    if (candidates !== this.members) this.update(candidates);
    const order = this.order;
    const n = order.length;
    let first = 0;
    while (first < n && !request.accepts(candidates[order[first]!]!)) first++;
    if (first === n) return undefined;
    const primary = candidates[order[first]!]!;
    const rest = n - first - 1;
    if (rest === 0) return primary;
    // A primary this quiet keeps its short calls whatever the others do: no scan needed.
    const load = inFlight(primary);
    if (kind === 'short' && load < this.spill) return primary;

    const best = this.leastBusyOther(candidates, request, first);
    if (best === undefined) return primary;
    const other = inFlight(best);
    if (kind === 'short') return load - other >= this.spill ? best : primary;
    if (load === 0 && other > 0) return primary;
    return other - load >= this.spill ? primary : best;
  }

  // The least busy accepted member other than the primary (order[first]): sampled in a large
  // group, else scanned in priority order from a rotating start (ties in turn).
  private leastBusyOther<C extends Candidate>(
    candidates: readonly C[],
    request: PickRequest,
    first: number,
  ): C | undefined {
    const order = this.order;
    if (candidates.length > SCAN_LIMIT) {
      // Members before `first` in priority order are not accepted: excluding the primary is
      // enough to draw among the others.
      const sampled = this.sample.best(candidates, request, inFlight, 0, order[first]!);
      if (sampled >= 0) return candidates[sampled];
    }
    const rest = order.length - first - 1;
    let offset = this.start < rest ? this.start : 0;
    this.start = offset + 1;
    let best: C | undefined;
    let bestLoad = Infinity;
    for (let k = 0; k < rest; k++) {
      const candidate = candidates[order[first + 1 + offset]!]!;
      if (++offset === rest) offset = 0;
      if (!request.accepts(candidate)) continue;
      const load = inFlight(candidate);
      if (best === undefined || load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
      if (bestLoad === 0) break;
    }
    return best;
  }

  /** @internal cluster mode: this replica's per-operation statistics, to publish. */
  localOperations(limit: number): Array<[string, number, number]> {
    return this.operations.entries(limit);
  }

  /** @internal cluster mode: the other replicas' per-operation statistics. */
  setSharedOperations(operations: ReadonlyMap<string, SharedOperation> | undefined): void {
    this.operations.shared = operations;
  }

  observe(
    _candidate: Candidate,
    operation: string | undefined,
    latencyMs: number,
    ok: boolean,
  ): void {
    // A failure's latency says how fast the instance failed, not how long the operation is.
    if (ok && operation !== undefined) this.operations.observe(operation, latencyMs);
  }
}

export const adaptive: BalancerFactory = (options, deps: BalancerDeps) => {
  const read = new OptionReader(options, ['window', 'threshold', 'maxOperations', 'spill']);
  const window = read.number('window', DEFAULT_WINDOW, { min: 1, max: 10_000, integer: true });
  const threshold = read.duration('threshold', DEFAULT_THRESHOLD_MS, { min: 0 });
  const maxOperations = read.number('maxOperations', DEFAULT_MAX_OPERATIONS, {
    min: 1,
    integer: true,
  });
  const spill = read.number('spill', DEFAULT_SPILL, { min: 1 });
  read.done();
  return new AdaptiveBalancer({ window, threshold, maxOperations, spill }, deps.random);
};
