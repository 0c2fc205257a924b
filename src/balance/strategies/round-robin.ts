import { OptionReader } from '../options.js';
import type { Balancer, BalancerFactory, Candidate, PickRequest } from '../types.js';

/**
 * `round-robin`: each member in turn, skipping those the request does not accept. O(1) per pick
 * while members are available (the cursor advances to the next accepted member). Weights and
 * priorities are not read. Over `n·k` picks of `n` available members, each gets exactly `k`.
 */
export class RoundRobinBalancer implements Balancer {
  private next = 0;

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    let i = this.next < n ? this.next : 0;
    for (let k = 0; k < n; k++) {
      const candidate = candidates[i]!;
      if (++i === n) i = 0;
      if (request.accepts(candidate)) {
        this.next = i;
        return candidate;
      }
    }
    return undefined;
  }
}

export const roundRobin: BalancerFactory = (options) => {
  new OptionReader(options, []).done();
  return new RoundRobinBalancer();
};
