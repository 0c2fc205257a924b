import { hash32 } from '../hash.js';
import { OptionReader } from '../options.js';
import type { Balancer, BalancerFactory, Candidate, PickRequest } from '../types.js';
import { RoundRobinBalancer } from './round-robin.js';

/** Options of {@link ConsistentHashBalancer}. */
export interface ConsistentHashOptions {
  /** Points on the ring per unit of weight (default 160). */
  virtualNodes?: number | undefined;
  /**
   * Bounded load ε (off when undefined): a member already holding more than
   * `(1 + ε) × its weighted share` of the requests in flight is skipped for the next one on the
   * ring. 0.25 is a common choice.
   */
  boundedLoad?: number | undefined;
}

export const DEFAULT_VIRTUAL_NODES = 160;

// A ring point and its owner's index packed in one float64, so that the ring sorts as numbers:
// point × 2^21 + owner stays below 2^53 for up to 2^21 members.
const OWNER_SPAN = 2 ** 21;

/**
 * `consistent-hash`: requests with the same `key` go to the same member, and a membership change
 * moves only the keys of the member that came or went (about 1/n of them; go-plugins' FNV mod n
 * moved 80% when a fifth member joined).
 *
 * - A ring of `virtualNodes × weight` points per member (hash of `name#i`), so a member's share
 *   follows its weight and does not depend on where other members sit. Built when membership
 *   changes; a pick is a binary search, O(log n).
 * - A member not accepted (unavailable, already tried) is passed over for the next distinct
 *   member clockwise: a stable failover target, so the key's cache warms in one other place.
 * - Bounded load (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded Loads",
 *   2017; HAProxy's `hash-balance-factor`): with `boundedLoad: ε`, a member may hold at most
 *   `ceil((1 + ε) × (inFlight_total + 1) × weight / weight_total)` requests; a hot key spills
 *   over to the next members on the ring instead of overloading one. Costs an O(n) sum, only
 *   when the first member on the walk is busy.
 * - No key: round robin (documented fallback), since there is nothing to be consistent about.
 */
export class ConsistentHashBalancer implements Balancer {
  private members: readonly Candidate[] | undefined;
  private points = new Uint32Array(0);
  private owners = new Uint32Array(0);
  /** Members with at least one point. */
  private ringMembers = 0;
  /** Every member weighs 0: they all count as weight 1. */
  private uniform = false;
  /** `seen[i] === generation` when member i was already looked at in this pick. */
  private seen = new Uint32Array(0);
  private generation = 0;
  private readonly virtualNodes: number;
  private readonly boundedLoad: number | undefined;
  private readonly keyless = new RoundRobinBalancer();

  constructor(options: ConsistentHashOptions = {}) {
    this.virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
    this.boundedLoad = options.boundedLoad;
  }

  update(members: readonly Candidate[]): void {
    this.members = members;
    this.uniform = !members.some((m) => m.weight > 0);
    const packed: number[] = [];
    const owners = new Set<number>();
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!;
      // Every member weighing 0 would leave an empty ring: then they count as weight 1.
      const weight = this.weightOf(member);
      const count = weight > 0 ? Math.max(1, Math.round(this.virtualNodes * weight)) : 0;
      for (let v = 0; v < count; v++) packed.push(hash32(`${member.name}#${v}`) * OWNER_SPAN + i);
      if (count > 0) owners.add(i);
    }
    const ring = Float64Array.from(packed).sort();
    this.points = new Uint32Array(ring.length);
    this.owners = new Uint32Array(ring.length);
    for (let k = 0; k < ring.length; k++) {
      const owner = ring[k]! % OWNER_SPAN;
      this.owners[k] = owner;
      this.points[k] = (ring[k]! - owner) / OWNER_SPAN;
    }
    this.ringMembers = owners.size;
    this.seen = new Uint32Array(members.length);
    this.generation = 0;
  }

  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
    const key = request.key;
    if (key === undefined) return this.keyless.pick(candidates, request);
    if (candidates !== this.members) this.update(candidates);
    const points = this.points;
    const size = points.length;
    if (size === 0) return undefined;
    let k = lowerBound(points, hash32(key));
    if (k === size) k = 0;

    if (++this.generation === 0xffffffff) {
      this.seen.fill(0);
      this.generation = 1;
    }
    const generation = this.generation;
    const seen = this.seen;
    const owners = this.owners;
    let distinct = 0;
    let factor = -1; // (1 + ε)(total + 1) / weight_total, computed when first needed
    let overloaded: C | undefined;
    for (let step = 0; step < size && distinct < this.ringMembers; step++) {
      const owner = owners[k]!;
      if (++k === size) k = 0;
      if (seen[owner] === generation) continue;
      seen[owner] = generation;
      distinct++;
      const candidate = candidates[owner]!;
      if (!request.accepts(candidate)) continue;
      if (this.boundedLoad === undefined || candidate.inFlight === 0) return candidate;
      if (factor < 0) factor = this.loadFactor(candidates, request, this.boundedLoad);
      if (candidate.inFlight < Math.ceil(factor * this.weightOf(candidate))) return candidate;
      overloaded ??= candidate;
    }
    // Cannot happen with consistent counts (some member is always under its bound), but
    // in-flight counts move while we read them: never fail a pick over it.
    return overloaded;
  }

  private loadFactor(candidates: readonly Candidate[], request: PickRequest, epsilon: number) {
    let inFlight = 0;
    let weight = 0;
    for (const candidate of candidates) {
      const share = this.weightOf(candidate);
      if (share > 0 && request.accepts(candidate)) {
        inFlight += candidate.inFlight;
        weight += share;
      }
    }
    return weight > 0 ? ((1 + epsilon) * (inFlight + 1)) / weight : Infinity;
  }

  private weightOf(member: Candidate): number {
    if (this.uniform) return 1;
    return member.weight > 0 && Number.isFinite(member.weight) ? member.weight : 0;
  }
}

/** The first index whose point is ≥ `value` (`points.length` when none). */
function lowerBound(points: Uint32Array, value: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (points[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

export const consistentHash: BalancerFactory = (options) => {
  const read = new OptionReader(options, ['virtualNodes', 'boundedLoad']);
  const virtualNodes = read.number('virtualNodes', DEFAULT_VIRTUAL_NODES, {
    min: 1,
    max: 10_000,
    integer: true,
  });
  const boundedLoad = read.optionalNumber('boundedLoad', { min: 0, max: 100 });
  read.done();
  return new ConsistentHashBalancer({ virtualNodes, boundedLoad });
};
