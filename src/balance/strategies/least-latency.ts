import { OptionReader } from '../options.js';
import { monotonicClock, type Clock } from '../../resilience/clock.js';
import { DEFAULT_PROBE_FACTOR, Probes, readProbeFactor } from '../Probes.js';
import { DEFAULT_CHOICES, readChoices, Sample, Scan, SCAN_LIMIT } from '../sample.js';
import { expectedLatency } from '../score.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';

/** Options of {@link LeastLatencyBalancer}. */
export interface LeastLatencyOptions {
  /**
   * Members compared per pick in groups of more than 32 members (default 8, 2–64); groups of up
   * to 32, or up to `2 × choices`, are scanned in full.
   */
  choices?: number | undefined;
  /**
   * A member that got none of the last `probeFactor × members` picks (at least 64) is picked
   * next, as a probe (default 32; 0 = never). See {@link Probes}.
   */
  probeFactor?: number | undefined;
}

/**
 * `least-latency`: the accepted member with the lowest expected latency, peak-EWMA estimate ×
 * (in-flight + 1) (see {@link expectedLatency}). Counting in-flight requests keeps a member
 * whose estimate just decayed from drawing every request until its first reply.
 *
 * It keeps exploring, by time and by count: estimates decay toward 0 while a member gets no
 * traffic (a member that was slow is tried again after about `decay × ln(slow / fast)`, e.g.
 * 46 s for a 1 s member beside a 10 ms one), and a member that got none of the last
 * `probeFactor × members` picks (default 32 × n, at least 64) is picked next as a probe, whose
 * measurement replaces its stale estimate (see {@link Probes}). A member that is fast again takes
 * its share back within about that many calls, however fast the calls are.
 *
 * - Up to 32 members ({@link SCAN_LIMIT}): exact, a full scan; ties go to members in turn.
 *   Deterministic: every picker sends to the same best member, which can herd at high rates.
 * - Larger groups: the best of `choices` (default 8) accepted members drawn at random (see
 *   {@link Sample}), O(choices) per pick, which also spreads the load; when most of the group is
 *   not accepted the draw falls back to the exact scan. `p2c` compares two members.
 */
export class LeastLatencyBalancer implements Balancer {
  private readonly scan = new Scan();
  private readonly sample: Sample;
  private readonly probes: Probes;

  /**
   * @param now the clock of the members' latency trackers (read once per pick)
   * @param random uniform random numbers in [0, 1), for groups larger than {@link SCAN_LIMIT}
   */
  constructor(
    private readonly now: Clock = monotonicClock,
    options: LeastLatencyOptions = {},
    random: () => number = Math.random,
  ) {
    this.sample = new Sample(options.choices ?? DEFAULT_CHOICES, random);
    this.probes = new Probes(options.probeFactor ?? DEFAULT_PROBE_FACTOR);
  }

  update(members: readonly Candidate[]): void {
    this.probes.update(members);
  }

  probe(candidate: Candidate): void {
    this.probes.expedite(candidate);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    const probes = this.probes;
    probes.update(candidates);
    if (probes.anyDue()) {
      for (let i = 0; i < n; i++) {
        if (probes.due(i) && request.accepts(candidates[i]!)) return this.picked(candidates, i);
      }
    }
    const now = this.now();
    let best = -1;
    if (n > SCAN_LIMIT) best = this.sample.best(candidates, request, expectedLatency, now);
    if (best < 0) best = this.scan.bestIndex(candidates, request, expectedLatency, now);
    return best < 0 ? undefined : this.picked(candidates, best);
  }

  observe(candidate: Candidate, _operation: string | undefined, latencyMs: number, ok: boolean) {
    // A probe's measurement replaces the member's stale estimate (a failure's penalty is a
    // peak, kept as the route recorded it).
    if (this.probes.ended(candidate) && ok) candidate.latency.restart?.(latencyMs);
  }

  private picked<C extends Candidate>(candidates: readonly C[], i: number): C {
    this.probes.picked(i);
    return candidates[i]!;
  }
}

export const leastLatency: BalancerFactory = (options, deps: BalancerDeps) => {
  const read = new OptionReader(options, ['choices', 'probeFactor']);
  const choices = readChoices(read);
  const probeFactor = readProbeFactor(read);
  read.done();
  return new LeastLatencyBalancer(deps.now, { choices, probeFactor }, deps.random);
};
