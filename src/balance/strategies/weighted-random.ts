import { OptionReader } from '../options.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';
import { pickUniform } from './random.js';

const DRAWS = 3;

/**
 * `weighted-random`: a random accepted member, each with probability proportional to its
 * `weight`. O(log n) per pick (binary search over prefix sums built when membership changes);
 * a draw that lands on a member not accepted is drawn again, which keeps the proportions exact
 * among the accepted ones, and after a few misses an O(n) pass draws among them directly.
 * Weight 0 (or less) means "no traffic", unless every accepted member weighs 0: then uniform.
 */
export class WeightedRandomBalancer implements Balancer {
  private members: readonly Candidate[] | undefined;
  private prefix = new Float64Array(0);
  private total = 0;

  constructor(private readonly random: () => number = Math.random) {}

  update(members: readonly Candidate[]): void {
    this.members = members;
    const prefix = new Float64Array(members.length);
    let total = 0;
    for (let i = 0; i < members.length; i++) {
      total += weightOf(members[i]!);
      prefix[i] = total;
    }
    this.prefix = prefix;
    this.total = total;
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    if (candidates !== this.members) this.update(candidates);
    if (candidates.length === 0) return undefined;
    if (this.total > 0) {
      for (let draw = 0; draw < DRAWS; draw++) {
        const candidate = candidates[this.search(this.random() * this.total)]!;
        if (request.accepts(candidate)) return candidate;
      }
    }
    return this.exact(candidates, request);
  }

  /** The first index whose prefix sum exceeds `target`. */
  private search(target: number): number {
    const prefix = this.prefix;
    let low = 0;
    let high = prefix.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (prefix[mid]! > target) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  private exact<C extends Candidate>(
    candidates: readonly C[],
    request: PickRequest,
  ): C | undefined {
    let total = 0;
    for (const candidate of candidates) {
      if (request.accepts(candidate)) total += weightOf(candidate);
    }
    if (total === 0) return pickUniform(candidates, request, this.random);
    let target = this.random() * total;
    let last: C | undefined;
    for (const candidate of candidates) {
      const weight = weightOf(candidate);
      if (weight === 0 || !request.accepts(candidate)) continue;
      last = candidate;
      target -= weight;
      if (target < 0) return candidate;
    }
    return last;
  }
}

function weightOf(candidate: Candidate): number {
  const weight = candidate.weight;
  return weight > 0 && Number.isFinite(weight) ? weight : 0;
}

export const weightedRandom: BalancerFactory = (options, deps: BalancerDeps) => {
  new OptionReader(options, []).done();
  return new WeightedRandomBalancer(deps.random);
};
