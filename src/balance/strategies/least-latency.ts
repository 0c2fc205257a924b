import { OptionReader } from '../options.js';
import { monotonicClock, type Clock } from '../../resilience/clock.js';
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
}

/**
 * `least-latency`: the accepted member with the lowest expected latency, peak-EWMA estimate ×
 * (in-flight + 1) (see {@link expectedLatency}). Counting in-flight requests keeps a member
 * whose estimate just decayed from drawing every request until its first reply.
 *
 * It keeps exploring: estimates decay toward 0 while a member gets no traffic, so a member that
 * was slow is tried again after a while (about `decay × ln(slow / fast)`, e.g. 46 s for a
 * 1 s member beside a 10 ms one) and, if it is fast now, takes its share back.
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
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    const now = this.now();
    if (n > SCAN_LIMIT) {
      const sampled = this.sample.best(candidates, request, expectedLatency, now);
      if (sampled >= 0) return candidates[sampled];
    }
    return this.scan.best(candidates, request, expectedLatency, now);
  }
}

export const leastLatency: BalancerFactory = (options, deps: BalancerDeps) => {
  const read = new OptionReader(options, ['choices']);
  const choices = readChoices(read);
  read.done();
  return new LeastLatencyBalancer(deps.now, { choices }, deps.random);
};
