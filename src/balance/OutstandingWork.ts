import type { Clock } from '../resilience/clock.js';
import { PeakEwma } from './PeakEwma.js';
import type { Candidate } from './types.js';

// A failed call counts as at least this many times slower than the member's current slowness
// (as GroupRoute does for latencies): a member that fails fast must not look fast.
const FAILURE_FACTOR = 2;
// Slowness ratios are clamped to this range (and its inverse) before they are averaged.
const MAX_RATIO = 64;
// Time constant of the slowness estimate, ms. Longer than peak-EWMA's 10 s on purpose: a latency
// includes the time the call waited on its member, which outstanding work already counts, so
// slowness must average over enough calls that a member which was busy a moment ago does not read as
// slow (with 10 s, p2c lost up to 9 points in bench/balance-mixed.ts); a member's speed is a property
// that changes slowly (hardware, neighbours), unlike its queue.
export const SLOWNESS_DECAY_MS = 60_000;

/** What a group believes one member is running, and how fast it runs it. */
class MemberWork {
  /** Sum of the expected costs (ms) of the tracked calls in flight. */
  work = 0;
  /** Tracked calls in flight. */
  calls = 0;
  /**
   * Latency ÷ the operation's group-wide cost, time-weighted over about a minute (no peaks): 1
   * for a typical member, 3 for one three times slower. It decays toward 0 while the member gets
   * no traffic, as peak-EWMA does, so a member that was slow is tried again and measured afresh.
   */
  readonly slowness: PeakEwma;

  constructor(now: Clock) {
    this.slowness = new PeakEwma({ now, peak: false, decayMs: SLOWNESS_DECAY_MS });
  }
}

/**
 * Outstanding work per member of a group: the sum of the expected costs of the calls sent to it
 * and not yet ended, each costed by its operation (`OperationStats.mean`). A member running one
 * 8 s call is busier than one running two 200 ms calls, which an in-flight count cannot see; and
 * unlike a per-member latency estimate, it is not thrown off by the mix of long and short
 * operations (after a long call ends, a member's latency estimate says "slow" just as it
 * becomes free).
 *
 * A strategy tells it which member it picked ({@link sent}) and when a call ended
 * ({@link ended}). A pick that never runs (rate limited, breaker denied, caller abort) is never
 * reported as ended; the pipeline's in-flight count is the truth it is reconciled with: tracked
 * calls beyond the member's in-flight count are dropped pro rata, and a member with nothing in
 * flight has no work. Calls it does not track (no operation, or one not measured yet) count at
 * the mean cost of the tracked ones, or at the member's latency estimate.
 */
export class OutstandingWork {
  private members: readonly Candidate[] | undefined;
  private states: MemberWork[] = [];
  private readonly index = new Map<Candidate, MemberWork>();

  /** @param now the clock of the members' latency trackers */
  constructor(private readonly now: Clock) {}

  /** Aligns the per-member state with `members`, keeping that of the members that stay. */
  update(members: readonly Candidate[]): void {
    if (members === this.members) return;
    const old = this.index;
    const states = members.map((member) => old.get(member) ?? new MemberWork(this.now));
    old.clear();
    members.forEach((member, i) => old.set(member, states[i]!));
    this.members = members;
    this.states = states;
  }

  /**
   * The work `candidates[i]` has in flight, ms of calls at the group's typical speed: the tracked
   * calls' costs, plus the untracked ones at their mean, or at the member's latency estimate, or
   * else at `guess` each; in cluster mode, plus the other replicas' work on it. Call
   * {@link update} with `candidates` first. `now` is one reading of the clock for the whole pick.
   */
  outstanding(candidates: readonly Candidate[], i: number, now: number, guess: number): number {
    const local = this.local(candidates, i, now, guess);
    const remote = candidates[i]!.remote;
    if (remote === undefined) return local;
    // Cluster mode: the other replicas' work on the member, as they cost it; else their calls
    // in flight at this call's cost.
    return local + (remote.work > 0 ? remote.work : remote.inFlight * guess);
  }

  /** The work this replica alone has in flight on `candidates[i]` (see {@link outstanding}). */
  local(candidates: readonly Candidate[], i: number, now: number, guess = 0): number {
    const state = this.states[i]!;
    const candidate = candidates[i]!;
    const inFlight = candidate.inFlight;
    const calls = state.calls;
    if (calls === inFlight) return state.work;
    // More tracked than in flight: picks that never ran (or not yet); keep the same mean cost.
    if (calls > inFlight) return (state.work * inFlight) / calls;
    const each = calls > 0 ? state.work / calls : candidate.latency.estimate(now) || guess;
    return state.work + (inFlight - calls) * each;
  }

  /**
   * Expected time for `candidates[i]` to run a call of `cost` ms after what it runs now:
   * (outstanding work + cost) × the member's slowness.
   */
  expected(candidates: readonly Candidate[], i: number, cost: number, now: number): number {
    const slowness = this.states[i]!.slowness.estimate(now);
    // Never measured: neutral. Decayed toward 0: the member looks fast and is tried again.
    return (this.outstanding(candidates, i, now, cost) + cost) * (slowness === 0 ? 1 : slowness);
  }

  /** A call of expected `cost` ms was sent to `candidates[i]` (after {@link update}). */
  sent(i: number, cost: number): void {
    const state = this.states[i]!;
    state.work += cost;
    state.calls++;
  }

  /**
   * A call on `candidate` ended after `latencyMs`. `cost` is its operation's expected cost as
   * known before this call is learned from (0 when it was not tracked). `restart`: the call was
   * a probe (see `Probes`), whose measurement replaces the member's slowness when it succeeded.
   */
  ended(candidate: Candidate, cost: number, latencyMs: number, ok: boolean, restart = false): void {
    const state = this.index.get(candidate);
    if (state === undefined) return; // left the group meanwhile
    if (cost > 0) {
      state.work -= cost;
      state.calls--;
      let ratio = latencyMs / cost;
      if (!ok) ratio = Math.max(ratio, FAILURE_FACTOR * (state.slowness.estimate() || 1));
      ratio = Math.min(MAX_RATIO, Math.max(1 / MAX_RATIO, ratio));
      // A probe of a member rated poorly for long: its slowness starts again from this call.
      if (restart && ok) state.slowness.restart(ratio);
      else state.slowness.observe(ratio);
    }
    // Reconcile with the pipeline's count (it no longer includes this call).
    const inFlight = candidate.inFlight;
    if (inFlight === 0 || state.calls <= 0 || state.work <= 0) {
      state.work = 0;
      state.calls = 0;
    } else if (state.calls > inFlight) {
      state.work = (state.work * inFlight) / state.calls;
      state.calls = inFlight;
    }
  }
}
