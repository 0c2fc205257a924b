import { OptionReader } from '../options.js';
import type { Balancer, BalancerFactory, Candidate, PickRequest } from '../types.js';

/**
 * `priority`: members of the highest `priority` that are accepted, in turn (round robin within
 * the tier); when none of a tier is accepted (breakers open, unhealthy, already tried), the next
 * tier down takes the call, and traffic returns up as soon as a higher member is available
 * again. Tiers are built when membership changes; a pick is O(1) while the top tier is
 * available.
 */
export class PriorityBalancer implements Balancer {
  private members: readonly Candidate[] | undefined;
  /** Member indices, highest priority first, in member order within a priority. */
  private order: Uint32Array = new Uint32Array(0);
  /** End (exclusive) of each tier in `order`. */
  private tierEnds: number[] = [];
  /** Round-robin position within each tier. */
  private cursors = new Uint32Array(0);

  update(members: readonly Candidate[]): void {
    this.members = members;
    this.order = byPriority(members);
    const ends: number[] = [];
    for (let p = 1; p <= this.order.length; p++) {
      const here = members[this.order[p - 1]!]!.priority;
      if (p === this.order.length || members[this.order[p]!]!.priority !== here) ends.push(p);
    }
    this.tierEnds = ends;
    this.cursors = new Uint32Array(ends.length);
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    if (candidates !== this.members) this.update(candidates);
    const order = this.order;
    let start = 0;
    for (let tier = 0; tier < this.tierEnds.length; tier++) {
      const end = this.tierEnds[tier]!;
      const size = end - start;
      let position = this.cursors[tier]! % size;
      for (let k = 0; k < size; k++) {
        const candidate = candidates[order[start + position]!]!;
        if (++position === size) position = 0;
        if (request.accepts(candidate)) {
          this.cursors[tier] = position;
          return candidate;
        }
      }
      start = end;
    }
    return undefined;
  }
}

/** Member indices sorted by priority, highest first; members keep their order within a priority. */
export function byPriority(members: readonly Candidate[]): Uint32Array {
  const order = Array.from(members.keys());
  order.sort((a, b) => members[b]!.priority - members[a]!.priority || a - b);
  return Uint32Array.from(order);
}

export const priority: BalancerFactory = (options) => {
  new OptionReader(options, []).done();
  return new PriorityBalancer();
};
