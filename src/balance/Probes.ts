import type { OptionReader } from './options.js';
import type { Candidate } from './types.js';

/**
 * A member that got none of the last `PROBE_FACTOR × members` picks is due a probe (with a floor
 * of {@link MIN_PROBE_WINDOW} picks). 32 per member: a member rated poorly costs about 1 pick in
 * 32·n (3% of a group of 1, 1.6% of a group of 2), and one that is fast again is found within
 * that many picks.
 */
export const DEFAULT_PROBE_FACTOR = 32;
/** The smallest probe window, in picks of the group. */
export const MIN_PROBE_WINDOW = 64;

/** What a group remembers of one member for probing. */
class MemberProbe {
  /** The group's pick count when this member was last picked. */
  last: number;
  /** Picked as a probe and not ended yet: its next measurement replaces the estimate. */
  probing = false;

  constructor(picks: number) {
    this.last = picks;
  }
}

/**
 * Keeps latency-aware strategies (`least-latency`, `p2c`) exploring when calls are fast.
 *
 * Their estimates (peak-EWMA, p2c's slowness) come down with wall time, not with the number of
 * calls: Finagle and linkerd decay them by time, which is right when calls are spread over
 * minutes, and wrong when they are fast and many. A member that was slow for a moment, then got
 * no traffic, kept its slow estimate for tens of seconds while thousands of calls went elsewhere
 * (issue #13: `a` got 0 of the next 800 calls), and each rare reply it got could only move the
 * estimate by the few milliseconds that had passed.
 *
 * So a member is also judged by the picks it missed: once it got none of the last `window` picks
 * of the group, it is **due**, and the strategy picks it when it is drawn (or, in a scan, first)
 * as a **probe**. The probe's measurement replaces the stale estimate (both directions: a slow
 * answer is a peak anyway), so a member that is fast again takes its share back at once, and one
 * that is still slow is left alone for another window. gRPC's weighted round robin treats stale
 * weights alike (`weight_expiration_period`: a weight not refreshed is dropped).
 *
 * {@link expedite} makes a member due now: a hint from elsewhere (another replica saw it
 * recover, an operator) that it is worth measuring again.
 *
 * One per strategy instance; picks are synchronous. The per-member state is aligned with the
 * member list (rebuilt only when membership changes), so a pick reads arrays, not maps.
 */
export class Probes {
  private members: readonly Candidate[] | undefined;
  private states: MemberProbe[] = [];
  private readonly index = new Map<Candidate, MemberProbe>();
  private picks = 0;
  private window = MIN_PROBE_WINDOW;
  /** Smallest `last` over the members, or NaN when not known (recomputed lazily). */
  private oldest = Number.NaN;

  /** @param factor the probe window per member, in picks (0 turns probing off) */
  constructor(private readonly factor = DEFAULT_PROBE_FACTOR) {}

  /** Aligns the per-member state with `members`, keeping that of the members that stay. */
  update(members: readonly Candidate[]): void {
    if (members === this.members) return;
    const old = this.index;
    const states = members.map((member) => old.get(member) ?? new MemberProbe(this.picks));
    old.clear();
    members.forEach((member, i) => old.set(member, states[i]!));
    this.members = members;
    this.states = states;
    this.window = Math.max(MIN_PROBE_WINDOW, this.factor * members.length);
    this.oldest = Number.NaN;
  }

  /** Whether some member may be due: a cheap test before looking for one. */
  anyDue(): boolean {
    if (this.factor === 0) return false;
    let oldest = this.oldest;
    if (Number.isNaN(oldest)) {
      oldest = Infinity;
      for (const state of this.states) if (state.last < oldest) oldest = state.last;
      this.oldest = oldest;
    }
    return this.picks - oldest >= this.window;
  }

  /** Whether member `i` (of the list given to {@link update}) is due a probe. */
  due(i: number): boolean {
    return this.factor !== 0 && this.picks - this.states[i]!.last >= this.window;
  }

  /** Member `i` was picked; a pick of a due member is a probe. */
  picked(i: number): void {
    const state = this.states[i]!;
    const picks = ++this.picks;
    if (picks - 1 - state.last >= this.window && this.factor !== 0) state.probing = true;
    if (state.last === this.oldest) this.oldest = Number.NaN;
    state.last = picks;
  }

  /**
   * An attempt on `candidate` ended. Returns true when it was the member's probe: the caller
   * then starts its estimates afresh from this measurement.
   */
  ended(candidate: Candidate): boolean {
    const state = this.index.get(candidate);
    if (state === undefined || !state.probing) return false;
    state.probing = false;
    return true;
  }

  /** Makes `candidate` due now: it is probed the next time it is drawn. */
  expedite(candidate: Candidate): void {
    const state = this.index.get(candidate);
    if (state === undefined) return;
    state.last = -Infinity;
    this.oldest = -Infinity;
  }
}

/** Reads the `probeFactor` option of a latency-aware strategy (0 turns probing off). */
export function readProbeFactor(read: OptionReader): number {
  return read.number('probeFactor', DEFAULT_PROBE_FACTOR, { min: 0, max: 10_000, integer: true });
}
