import { OptionReader } from '../options.js';
import { OperationStats, DEFAULT_MAX_OPERATIONS, DEFAULT_WINDOW } from '../operations.js';
import { OutstandingWork } from '../OutstandingWork.js';
import { monotonicClock, type Clock } from '../../resilience/clock.js';
import type { SharedOperation, SharesLoad } from '../remote.js';
import { expectedLatency } from '../score.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';
import { LeastLatencyBalancer } from './least-latency.js';

// Pairs drawn before falling back to a full scan (most members unavailable).
const ROUNDS = 3;

/** Options of {@link P2CBalancer}. */
export interface P2COptions {
  /** Operations whose cost is remembered; the oldest is forgotten past this (default 1000). */
  maxOperations?: number | undefined;
}

/**
 * `p2c`, power of two choices (Mitzenmacher; Finagle's and linkerd's default): draw two distinct
 * members at random, take the one expected to finish the call sooner. O(1) per pick, and the
 * randomness keeps many pickers from herding onto one member.
 *
 * - A call with an `operation` measured before: (outstanding work + the operation's cost) × the
 *   member's slowness (see {@link OutstandingWork}). An operation's cost is the mean of its last
 *   5 latencies across the group; a member's outstanding work, the cost of the calls it runs; its
 *   slowness, its latencies ÷ those costs over about a minute. So a member running one long call
 *   ranks behind one running two quick ones, one that just finished a long call is not shunned
 *   for it, and one that runs everything twice as slowly gets less work.
 * - Otherwise (no operation, or one not measured yet): the member's peak-EWMA latency ×
 *   (in-flight + 1), as Finagle does.
 *
 * Both keep exploring: a member's estimates decay toward 0 while it gets no traffic, so a member
 * that was slow is measured again and recovers its share when fast. When a drawn pair holds one
 * accepted member it is taken; after a few pairs with none, an exact scan finds the best.
 *
 * Cluster mode (docs/cluster.md): a member's outstanding work adds what the other replicas last
 * published as theirs on it, in-flight counts add theirs, and an operation's cost merges their
 * recent latencies with this replica's.
 */
export class P2CBalancer implements Balancer, SharesLoad {
  private readonly fallback: LeastLatencyBalancer;
  private readonly operations: OperationStats;
  private readonly work: OutstandingWork;

  /**
   * @param random uniform random numbers in [0, 1)
   * @param now the clock of the members' latency trackers (read once per pick)
   */
  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: Clock = monotonicClock,
    options: P2COptions = {},
  ) {
    this.fallback = new LeastLatencyBalancer(now, {}, random);
    this.operations = new OperationStats(
      DEFAULT_WINDOW,
      options.maxOperations ?? DEFAULT_MAX_OPERATIONS,
    );
    this.work = new OutstandingWork(now);
  }

  update(members: readonly Candidate[]): void {
    this.work.update(members);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const cost = this.operations.mean(request.operation);
    if (cost === undefined || cost === 0) return this.pickByLatency(candidates, request);
    const work = this.work;
    work.update(candidates);
    const n = candidates.length;
    const random = this.random;
    let chosen = -1;
    if (n === 1) {
      if (request.accepts(candidates[0]!)) chosen = 0;
    } else {
      for (let round = 0; round < ROUNDS && chosen < 0; round++) {
        const i = Math.floor(random() * n);
        let j = Math.floor(random() * (n - 1));
        if (j >= i) j++;
        const takeA = request.accepts(candidates[i]!);
        const takeB = request.accepts(candidates[j]!);
        if (takeA && takeB) {
          const now = this.now();
          chosen =
            work.expected(candidates, j, cost, now) < work.expected(candidates, i, cost, now)
              ? j
              : i;
        } else if (takeA) chosen = i;
        else if (takeB) chosen = j;
      }
      if (chosen < 0) chosen = this.scan(candidates, request, cost);
    }
    if (chosen < 0) return undefined;
    work.sent(chosen, cost);
    return candidates[chosen];
  }

  observe(
    candidate: Candidate,
    operation: string | undefined,
    latencyMs: number,
    ok: boolean,
  ): void {
    const operations = this.operations;
    // The cost the call was tracked with: as known before this latency is learned.
    this.work.ended(candidate, operations.mean(operation) ?? 0, latencyMs, ok);
    // A failure's latency says how fast the member failed, not how long the operation is.
    if (ok && operation !== undefined) operations.observe(operation, latencyMs);
  }

  /** @internal cluster mode: the work (ms) this replica has in flight on `members[i]`. */
  sharedWork(members: readonly Candidate[], i: number): number {
    const work = this.work;
    work.update(members);
    return work.local(members, i, this.now());
  }

  /** @internal cluster mode: this replica's per-operation statistics, to publish. */
  localOperations(limit: number): Array<[string, number, number]> {
    return this.operations.entries(limit);
  }

  /** @internal cluster mode: the other replicas' per-operation statistics. */
  setSharedOperations(operations: ReadonlyMap<string, SharedOperation> | undefined): void {
    this.operations.shared = operations;
  }

  private pickByLatency<C extends Candidate>(
    candidates: readonly C[],
    request: PickRequest,
  ): C | undefined {
    const n = candidates.length;
    if (n < 2) return n === 1 && request.accepts(candidates[0]!) ? candidates[0] : undefined;
    const random = this.random;
    for (let round = 0; round < ROUNDS; round++) {
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      const a = candidates[i]!;
      const b = candidates[j]!;
      const takeA = request.accepts(a);
      const takeB = request.accepts(b);
      if (takeA && takeB) {
        const now = this.now();
        return expectedLatency(b, now) < expectedLatency(a, now) ? b : a;
      }
      if (takeA) return a;
      if (takeB) return b;
    }
    return this.fallback.pick(candidates, request);
  }

  // Most members not accepted: the best accepted one by an exact scan, or -1.
  private scan(candidates: readonly Candidate[], request: PickRequest, cost: number): number {
    const now = this.now();
    let best = -1;
    let bestScore = Infinity;
    for (let i = 0; i < candidates.length; i++) {
      if (!request.accepts(candidates[i]!)) continue;
      const score = this.work.expected(candidates, i, cost, now);
      if (score < bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
}

export const p2c: BalancerFactory = (options, deps: BalancerDeps) => {
  const read = new OptionReader(options, ['maxOperations']);
  const maxOperations = read.number('maxOperations', DEFAULT_MAX_OPERATIONS, {
    min: 1,
    integer: true,
  });
  read.done();
  return new P2CBalancer(deps.random, deps.now, { maxOperations });
};
