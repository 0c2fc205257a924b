import { OptionReader } from '../options.js';
import { OperationStats, DEFAULT_MAX_OPERATIONS, DEFAULT_WINDOW } from '../operations.js';
import { OutstandingWork } from '../OutstandingWork.js';
import { DEFAULT_PROBE_FACTOR, Probes, readProbeFactor } from '../Probes.js';
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
  /**
   * A member that got none of the last `probeFactor × members` picks (at least 64) is probed
   * the next time it is drawn (default 32; 0 = never). See {@link Probes}.
   */
  probeFactor?: number | undefined;
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
 * Both keep exploring, by time and by count: a member's estimates decay toward 0 while it gets no
 * traffic, and a member that got none of the last `probeFactor × members` picks (default 32 × n,
 * at least 64) is probed the next time it is drawn, its measurement replacing the stale estimate
 * (see {@link Probes}). So a member that was slow recovers its share within about that many
 * calls once it is fast again, even when calls are much faster than the 10 s decay. When a drawn
 * pair holds one accepted member it is taken; after a few pairs with none, an exact scan finds
 * the best.
 *
 * Cluster mode (docs/cluster.md): a member's outstanding work adds what the other replicas last
 * published as theirs on it, in-flight counts add theirs, and an operation's cost merges their
 * recent latencies with this replica's.
 */
export class P2CBalancer implements Balancer, SharesLoad {
  private readonly fallback: LeastLatencyBalancer;
  private readonly operations: OperationStats;
  private readonly work: OutstandingWork;
  private readonly probes: Probes;

  /**
   * @param random uniform random numbers in [0, 1)
   * @param now the clock of the members' latency trackers (read once per pick)
   */
  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: Clock = monotonicClock,
    options: P2COptions = {},
  ) {
    this.probes = new Probes(options.probeFactor ?? DEFAULT_PROBE_FACTOR);
    this.fallback = new LeastLatencyBalancer(now, { probeFactor: 0 }, random);
    this.operations = new OperationStats(
      DEFAULT_WINDOW,
      options.maxOperations ?? DEFAULT_MAX_OPERATIONS,
    );
    this.work = new OutstandingWork(now);
  }

  update(members: readonly Candidate[]): void {
    this.work.update(members);
    this.probes.update(members);
  }

  probe(candidate: Candidate): void {
    this.probes.expedite(candidate);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const cost = this.operations.mean(request.operation);
    if (cost === undefined || cost === 0) return this.pickByLatency(candidates, request);
    const work = this.work;
    work.update(candidates);
    const probes = this.probes;
    probes.update(candidates);
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
          if (probes.due(i)) chosen = i;
          else if (probes.due(j)) chosen = j;
          else {
            const now = this.now();
            chosen =
              work.expected(candidates, j, cost, now) < work.expected(candidates, i, cost, now)
                ? j
                : i;
          }
        } else if (takeA) chosen = i;
        else if (takeB) chosen = j;
      }
      if (chosen < 0) chosen = this.scan(candidates, request, cost);
    }
    if (chosen < 0) return undefined;
    work.sent(chosen, cost);
    probes.picked(chosen);
    return candidates[chosen];
  }

  observe(
    candidate: Candidate,
    operation: string | undefined,
    latencyMs: number,
    ok: boolean,
  ): void {
    const operations = this.operations;
    const probe = this.probes.ended(candidate);
    // A probe's measurement replaces the member's stale estimate (the route has just fed it to
    // the tracker, blended by time); a failure's penalty is a peak, kept as it is.
    if (probe && ok) candidate.latency.restart?.(latencyMs);
    // The cost the call was tracked with: as known before this latency is learned.
    this.work.ended(candidate, operations.mean(operation) ?? 0, latencyMs, ok, probe);
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
    const probes = this.probes;
    probes.update(candidates);
    if (n < 2) {
      if (n === 0 || !request.accepts(candidates[0]!)) return undefined;
      probes.picked(0);
      return candidates[0];
    }
    const random = this.random;
    for (let round = 0; round < ROUNDS; round++) {
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      const a = candidates[i]!;
      const b = candidates[j]!;
      const takeA = request.accepts(a);
      const takeB = request.accepts(b);
      let chosen = -1;
      if (takeA && takeB) {
        if (probes.due(i)) chosen = i;
        else if (probes.due(j)) chosen = j;
        else {
          const now = this.now();
          chosen = expectedLatency(b, now) < expectedLatency(a, now) ? j : i;
        }
      } else if (takeA) chosen = i;
      else if (takeB) chosen = j;
      if (chosen >= 0) {
        probes.picked(chosen);
        return candidates[chosen];
      }
    }
    // Most members not accepted: the exact scan (rare; its indexOf is of no concern).
    const found = this.fallback.pick(candidates, request);
    if (found !== undefined) probes.picked(candidates.indexOf(found));
    return found;
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
  const read = new OptionReader(options, ['maxOperations', 'probeFactor']);
  const maxOperations = read.number('maxOperations', DEFAULT_MAX_OPERATIONS, {
    min: 1,
    integer: true,
  });
  const probeFactor = readProbeFactor(read);
  read.done();
  return new P2CBalancer(deps.random, deps.now, { maxOperations, probeFactor });
};
