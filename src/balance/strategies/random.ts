import { OptionReader } from '../options.js';
import type { Balancer, BalancerDeps, BalancerFactory, Candidate, PickRequest } from '../types.js';

// Draws before giving up on luck and counting the accepted members (rejection sampling keeps
// the choice uniform over the accepted ones; the count is the exact fallback).
const DRAWS = 3;

/**
 * `random`: a uniformly random accepted member. O(1) per pick while most members are available,
 * O(n) when most are not. Weights are not read (see `weighted-random`).
 */
export class RandomBalancer implements Balancer {
  constructor(private readonly random: () => number = Math.random) {}

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    for (let draw = 0; draw < DRAWS; draw++) {
      const candidate = candidates[Math.floor(this.random() * n)]!;
      if (request.accepts(candidate)) return candidate;
    }
    return pickUniform(candidates, request, this.random);
  }
}

/** A uniformly random accepted candidate by counting: O(n), exact. */
export function pickUniform<C extends Candidate>(
  candidates: readonly C[],
  request: PickRequest,
  random: () => number,
): C | undefined {
  let count = 0;
  for (const candidate of candidates) if (request.accepts(candidate)) count++;
  if (count === 0) return undefined;
  let rank = Math.floor(random() * count);
  let last: C | undefined;
  for (const candidate of candidates) {
    if (!request.accepts(candidate)) continue;
    last = candidate;
    if (rank-- === 0) return candidate;
  }
  return last; // availability changed between the two passes
}

export const random: BalancerFactory = (options, deps: BalancerDeps) => {
  new OptionReader(options, []).done();
  return new RandomBalancer(deps.random);
};
