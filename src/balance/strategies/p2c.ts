import { OptionReader } from '../options.js';
import { monotonicClock, type Clock } from '../../resilience/clock.js';
import { expectedLatency } from '../score.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';
import { LeastLatencyBalancer } from './least-latency.js';

// Pairs drawn before falling back to a full scan (most members unavailable).
const ROUNDS = 3;

/**
 * `p2c`, power of two choices (Mitzenmacher; Finagle's and linkerd's default): draw two distinct
 * members at random, take the one with the lower expected latency, peak-EWMA × (in-flight + 1).
 * O(1) per pick, and the randomness keeps many pickers from herding onto one member. A member
 * that was slow keeps being drawn now and then, and its estimate decays meanwhile, so it is
 * measured again and recovers its share when fast.
 *
 * When a drawn pair holds one accepted member it is taken; after a few pairs with none, an exact
 * scan (as `least-latency`) finds the best accepted member.
 */
export class P2CBalancer implements Balancer {
  private readonly fallback: LeastLatencyBalancer;

  /**
   * @param random uniform random numbers in [0, 1)
   * @param now the clock of the members' latency trackers (read once per pick)
   */
  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: Clock = monotonicClock,
  ) {
    this.fallback = new LeastLatencyBalancer(now);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
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
}

export const p2c: BalancerFactory = (options, deps: BalancerDeps) => {
  new OptionReader(options, []).done();
  return new P2CBalancer(deps.random, deps.now);
};
