import { OptionReader } from '../options.js';
import { monotonicClock, type Clock } from '../../resilience/clock.js';
import { expectedLatency } from '../score.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';

/**
 * `least-latency`: the accepted member with the lowest expected latency, peak-EWMA estimate ×
 * (in-flight + 1) (see {@link expectedLatency}). Counting in-flight requests keeps a member
 * whose estimate just decayed from drawing every request until its first reply.
 *
 * It keeps exploring: estimates decay toward 0 while a member gets no traffic, so a member that
 * was slow is tried again after a while (about `decay × ln(slow / fast)`, e.g. 46 s for a
 * 1 s member beside a 10 ms one) and, if it is fast now, takes its share back.
 *
 * Full scan, O(n) per pick; ties go to members in turn. Deterministic: every picker sends to the
 * same best member, which can herd at high rates; `p2c` spreads better at O(1).
 */
export class LeastLatencyBalancer implements Balancer {
  private start = 0;

  /** @param now the clock of the members' latency trackers (read once per pick) */
  constructor(private readonly now: Clock = monotonicClock) {}

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    let i = this.start < n ? this.start : 0;
    this.start = i + 1;
    let best: C | undefined;
    let bestScore = Infinity;
    const now = this.now();
    for (let k = 0; k < n; k++) {
      const candidate = candidates[i]!;
      if (++i === n) i = 0;
      if (!request.accepts(candidate)) continue;
      const score = expectedLatency(candidate, now);
      if (score === 0) return candidate;
      if (best === undefined || score < bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best;
  }
}

export const leastLatency: BalancerFactory = (options, deps: BalancerDeps) => {
  new OptionReader(options, []).done();
  return new LeastLatencyBalancer(deps.now);
};
