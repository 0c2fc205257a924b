import { OptionReader } from '../options.js';
import { totalInFlight } from '../remote.js';
import { DEFAULT_CHOICES, readChoices, Sample, Scan, SCAN_LIMIT } from '../sample.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';

/** Options of {@link LeastConnectionsBalancer}. */
export interface LeastConnectionsOptions {
  /**
   * Members compared per pick in groups of more than 32 members (default 8, 2–64); groups of up
   * to 32, or up to `2 × choices`, are scanned in full.
   */
  choices?: number | undefined;
}

// In flight (cluster mode: on every replica) per unit of weight; weight 0 only when nothing else
// is accepted.
function load(candidate: Candidate): number {
  return candidate.weight > 0 ? totalInFlight(candidate) / candidate.weight : Infinity;
}

/**
 * `least-connections`: the accepted member with the fewest attempts in flight per unit of weight
 * (`inFlight / weight`; weight 0 only when nothing else is accepted). In cluster mode the
 * attempts other replicas last published as in flight count too.
 *
 * - Up to 32 members ({@link SCAN_LIMIT}): exact. A scan from a rotating start, so ties go to
 *   members in turn and idle members share the traffic evenly; an idle member ends the scan.
 * - Larger groups: the least loaded of `choices` (default 8) accepted members drawn at random
 *   (see {@link Sample}), O(choices) per pick; an idle one ends the draw. When most of the group
 *   is not accepted the draw falls back to the exact scan.
 */
export class LeastConnectionsBalancer implements Balancer {
  private readonly scan = new Scan();
  private readonly sample: Sample;

  /** @param random uniform random numbers in [0, 1), for groups larger than {@link SCAN_LIMIT} */
  constructor(options: LeastConnectionsOptions = {}, random: () => number = Math.random) {
    this.sample = new Sample(options.choices ?? DEFAULT_CHOICES, random);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    if (n > SCAN_LIMIT) {
      const sampled = this.sample.best(candidates, request, load, 0);
      if (sampled >= 0) return candidates[sampled];
    }
    return this.scan.best(candidates, request, load, 0);
  }
}

export const leastConnections: BalancerFactory = (options, deps: BalancerDeps) => {
  const read = new OptionReader(options, ['choices']);
  const choices = readChoices(read);
  read.done();
  return new LeastConnectionsBalancer({ choices }, deps.random);
};
