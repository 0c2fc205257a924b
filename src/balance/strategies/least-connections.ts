import { OptionReader } from '../options.js';
import type { Balancer, BalancerFactory, Candidate, PickRequest } from '../types.js';

/**
 * `least-connections`: the accepted member with the fewest attempts in flight per unit of weight
 * (`inFlight / weight`; weight 0 only when nothing else is accepted). Ties go to members in turn,
 * so idle members share the traffic evenly. O(n) per pick, but an idle member ends the scan.
 */
export class LeastConnectionsBalancer implements Balancer {
  private start = 0;

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    // Start each scan one member further, so that ties do not always go to the first.
    let i = this.start < n ? this.start : 0;
    this.start = i + 1;
    let best: C | undefined;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const candidate = candidates[i]!;
      if (++i === n) i = 0;
      if (!request.accepts(candidate)) continue;
      const load = candidate.weight > 0 ? candidate.inFlight / candidate.weight : Infinity;
      if (load === 0) return candidate;
      if (best === undefined || load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    return best;
  }
}

export const leastConnections: BalancerFactory = (options) => {
  new OptionReader(options, []).done();
  return new LeastConnectionsBalancer();
};
