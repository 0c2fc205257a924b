import type { OptionReader } from './options.js';
import type { Candidate, PickRequest } from './types.js';

/**
 * Groups of up to this many members are scanned in full, exactly. Around this size a scan costs
 * what drawing 8 members does (about 200 ns for least-connections and adaptive, 300 ns for
 * least-latency in bench/balance-select.ts); past it the scan grows with the group, the draw
 * does not.
 */
export const SCAN_LIMIT = 32;
/** Members compared per pick above {@link SCAN_LIMIT} (Envoy's LEAST_REQUEST uses 2 by default). */
export const DEFAULT_CHOICES = 8;
/** Largest `choices` accepted: more costs as much as the scan it replaces. */
export const MAX_CHOICES = 64;
// Members drawn per pick, as a multiple of `choices`, before the sample gives up and the caller
// scans: enough to fill the sample while at least half the group is accepted.
const DRAWS_PER_CHOICE = 4;

/**
 * How good a candidate is for the call: lower is better, never negative, and 0 is the best there
 * can be (an idle member), which ends the draw. `now` is the pick's clock reading, for latency
 * trackers. A module-level function, so that a pick builds no closure.
 */
export type Score = (candidate: Candidate, now: number) => number;

/** Reads the `choices` option of a sampling strategy. */
export function readChoices(read: OptionReader): number {
  return read.number('choices', DEFAULT_CHOICES, { min: 2, max: MAX_CHOICES, integer: true });
}

/**
 * "Power of d choices" for the strategies that would otherwise scan the group (least-connections,
 * least-latency, adaptive): above {@link SCAN_LIMIT} members, the best of `choices` distinct
 * accepted members drawn at random, O(choices) per pick however large the group (Envoy's
 * LEAST_REQUEST; Mitzenmacher: most of the gain of a full scan comes with the first few choices).
 *
 * Draws are without replacement, by a partial Fisher–Yates shuffle of a permutation of member
 * indices kept between picks: any permutation is a valid start, so it is never reset, and the
 * only allocation is a new permutation when membership changes. One per balancer; picks are
 * synchronous, so it is never shared by two picks at once.
 */
export class Sample {
  private members: readonly Candidate[] | undefined;
  private order: Uint32Array = new Uint32Array(0);

  /**
   * @param choices accepted members compared per pick (2–{@link MAX_CHOICES})
   * @param random uniform random numbers in [0, 1)
   */
  constructor(
    readonly choices: number,
    private readonly random: () => number,
  ) {}

  /** Whether a group of `size` members is sampled; smaller ones are scanned. */
  covers(size: number): boolean {
    return size > SCAN_LIMIT && size > 2 * this.choices;
  }

  /**
   * The index of the best-scoring of up to `choices` accepted candidates drawn at random
   * (`exclude`, an index, is never drawn as a candidate), or -1 when the caller must scan: the
   * group is small enough ({@link Sample.covers}), or the draws found fewer than two accepted
   * members (most of the group is down or already tried; the scan still finds a lone one).
   */
  best(
    candidates: readonly Candidate[],
    request: PickRequest,
    score: Score,
    now: number,
    exclude = -1,
  ): number {
    const n = candidates.length;
    if (!this.covers(n)) return -1;
    let order = this.order;
    if (candidates !== this.members || order.length !== n) order = this.reset(candidates);
    const random = this.random;
    const choices = this.choices;
    const draws = Math.min(n, DRAWS_PER_CHOICE * choices);
    let found = 0;
    let best = -1;
    let bestScore = Infinity;
    for (let k = 0; k < draws && found < choices; k++) {
      // order[k..n) holds the members not drawn yet in this pick: swap a random one to k.
      const j = k + Math.floor(random() * (n - k));
      const index = order[j]!;
      order[j] = order[k]!;
      order[k] = index;
      if (index === exclude) continue;
      const candidate = candidates[index]!;
      if (!request.accepts(candidate)) continue;
      found++;
      const value = score(candidate, now);
      if (value === 0) return index;
      // Draws come in random order, so taking the first of equal scores breaks ties at random.
      if (best < 0 || value < bestScore) {
        best = index;
        bestScore = value;
      }
    }
    return found >= 2 ? best : -1;
  }

  private reset(candidates: readonly Candidate[]): Uint32Array {
    const order = new Uint32Array(candidates.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    this.members = candidates;
    this.order = order;
    return order;
  }
}

/**
 * The exact pick of least-connections and least-latency: the accepted candidate with the lowest
 * score, scanning from one member further each pick so that ties do not always go to the first;
 * an idle candidate (score 0) ends the scan. One per balancer (it keeps where to start).
 */
export class Scan {
  private start = 0;

  best<C extends Candidate>(
    candidates: readonly C[],
    request: PickRequest,
    score: Score,
    now: number,
  ): C | undefined {
    const index = this.bestIndex(candidates, request, score, now);
    return index < 0 ? undefined : candidates[index];
  }

  /** As {@link Scan.best}, but the index of the candidate (-1 for none). */
  bestIndex(
    candidates: readonly Candidate[],
    request: PickRequest,
    score: Score,
    now: number,
  ): number {
    const n = candidates.length;
    let i = this.start < n ? this.start : 0;
    this.start = i + 1;
    let best = -1;
    let bestScore = Infinity;
    for (let k = 0; k < n; k++) {
      const index = i;
      const candidate = candidates[i]!;
      if (++i === n) i = 0;
      if (!request.accepts(candidate)) continue;
      const value = score(candidate, now);
      if (value === 0) return index;
      if (best < 0 || value < bestScore) {
        best = index;
        bestScore = value;
      }
    }
    return best;
  }
}
