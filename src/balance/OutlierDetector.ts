import type { OutlierDetectionConfig } from '../config/types.js';
import { monotonicClock, type Clock } from '../resilience/clock.js';
import type { Candidate } from './types.js';

/** What a group reports about ejections (the manager turns these into events and metrics). */
export interface OutlierEvent {
  /** `ejected`: taken out of the group; `returned`: its ejection ended. */
  readonly kind: 'ejected' | 'returned';
  readonly member: Candidate;
  /** Times ejected, this one included (the multiplier of the ejection time). */
  readonly ejections: number;
  /** `ejected`: how long the ejection lasts, ms; `returned`: how long it lasted. */
  readonly durationMs: number;
  /** `ejected`: the failed attempts in a row that caused it. */
  readonly consecutiveFailures: number;
}

/** A point-in-time view of one member's ejection state. */
export interface OutlierSnapshot {
  ejected: boolean;
  /** Failed attempts in a row (reset by a success and by the end of an ejection). */
  consecutiveFailures: number;
  /** The ejection multiplier: times ejected, less one per `interval` spent in service. */
  ejections: number;
  /** While ejected: ms until it returns; otherwise 0. */
  returnsInMs: number;
}

class MemberOutliers {
  consecutive = 0;
  /** The multiplier as of `settledAt` (decays by one per `interval` in service). */
  ejections = 0;
  /** When the multiplier was last brought up to date (clock ms). */
  settledAt = 0;
  /** While ejected: when the ejection ends; otherwise -1. */
  until = -1;
  since = 0;
}

/**
 * Outlier ejection for one group, in the Envoy sense (passive health checking): the pipeline
 * reports each attempt's outcome, and a member with `consecutiveFailures` failures in a row is
 * **ejected** for `baseEjectionTime × times ejected`, at most `maxEjectionTime`. Each `interval`
 * a member then stays in service takes one off its count, so a member that fails again soon is
 * ejected for longer, and one that recovered for good starts again from the base time.
 *
 * - At most `maxEjectionPercent` of the members are ejected at once, and always at least one
 *   (Envoy's classic behaviour; `always_eject_one_host`): a failure past the limit ejects
 *   nobody, its count goes on.
 * - An ejected member serves only in **panic**: when fewer than `panicThreshold`% of the
 *   group's members are available and not ejected, ejected members are picked like the others
 *   (Envoy's healthy panic threshold), and when nothing else can take a call at all, the
 *   group's last-resort pass picks them too.
 * - No timer: an ejection ends when a pick (or a snapshot) finds its time has passed; the member
 *   then returns with its failure count at 0, and the route asks the strategy to probe it.
 *
 * The breaker is per plugin and fails calls fast; ejection is per group and only steers picks
 * away, bounded so that a group is never emptied by it.
 */
export class OutlierDetector {
  private readonly states = new Map<Candidate, MemberOutliers>();
  /** Members ejected now (a small list; usually empty, so picks test its length only). */
  private readonly ejected: Candidate[] = [];
  /** The earliest `until` of the ejected members (clock ms), Infinity when none. */
  private nextReturn = Infinity;

  constructor(
    private config: OutlierDetectionConfig,
    private readonly emit: (event: OutlierEvent) => void,
    private readonly now: Clock = monotonicClock,
  ) {}

  /** Members ejected now (after returning those whose time is up). */
  get current(): readonly Candidate[] {
    if (this.ejected.length > 0) this.expire(this.now());
    return this.ejected;
  }

  /**
   * The members a pick must pass over: the ejected ones, or undefined when none is ejected or
   * the group is in panic (see {@link panics}). O(1) while nothing is ejected.
   */
  excluding(members: readonly Candidate[]): readonly Candidate[] | undefined {
    if (this.ejected.length === 0 || !this.expire(this.now())) return undefined;
    return this.panics(members) ? undefined : this.ejected;
  }

  /** Applies new settings: ejections in force keep their end time. */
  configure(config: OutlierDetectionConfig): void {
    this.config = config;
  }

  /** Forgets the members that left the group (an ejected one leaves its ejection). */
  retain(members: readonly Candidate[]): void {
    const keep = new Set<Candidate>(members);
    for (const member of this.states.keys()) if (!keep.has(member)) this.states.delete(member);
    for (let i = this.ejected.length - 1; i >= 0; i--) {
      if (!keep.has(this.ejected[i]!)) this.ejected.splice(i, 1);
    }
    this.recomputeNextReturn();
  }

  /**
   * Ends the ejections whose time has passed at `now`; returns whether any member is still
   * ejected. Called by the route once per pick while some member is ejected.
   */
  expire(now: number): boolean {
    if (now < this.nextReturn) return this.ejected.length > 0;
    for (let i = this.ejected.length - 1; i >= 0; i--) {
      const member = this.ejected[i]!;
      const state = this.states.get(member)!;
      if (now < state.until) continue;
      this.ejected.splice(i, 1);
      const lasted = now - state.since;
      state.until = -1;
      state.consecutive = 0;
      state.settledAt = now;
      this.emit({
        kind: 'returned',
        member,
        ejections: state.ejections,
        durationMs: lasted,
        consecutiveFailures: 0,
      });
    }
    this.recomputeNextReturn();
    return this.ejected.length > 0;
  }

  /**
   * An attempt on `member` ended: `ok` false for a failure that counts (transport error,
   * timeout, 5xx), true when the member answered.
   */
  observe(member: Candidate, ok: boolean, groupSize: number): void {
    let state = this.states.get(member);
    if (ok) {
      if (state !== undefined) state.consecutive = 0;
      return;
    }
    if (state === undefined) {
      state = new MemberOutliers();
      this.states.set(member, state);
    }
    if (state.until >= 0) {
      // Ejected: failures in panic mode or of calls sent before do not count, unless the
      // ejection is over (then the count starts from 0 with this failure).
      this.expire(this.now());
      if (state.until >= 0) return;
    }
    state.consecutive++;
    const config = this.config;
    if (!config.enabled || state.consecutive < config.consecutiveFailures) return;
    const now = this.now();
    this.expire(now);
    const allowed = Math.max(1, Math.floor((groupSize * config.maxEjectionPercent) / 100));
    if (this.ejected.length >= allowed) return;
    this.eject(member, state, now);
  }

  /** Whether the group is in panic: too few members available and not ejected. */
  panics(members: readonly Candidate[]): boolean {
    let routable = 0;
    let healthy = 0;
    for (const member of members) {
      const blocked = (member as { blocked?: string | undefined }).blocked;
      // Members that cannot serve for reasons of their own (disabled, starting, draining…) are
      // not part of the count, as Envoy counts only the hosts of the priority level.
      if (blocked !== undefined && blocked !== 'unhealthy' && blocked !== 'circuit-open') continue;
      routable++;
      if (blocked === undefined && !this.ejected.includes(member)) healthy++;
    }
    return routable > 0 && healthy * 100 < this.config.panicThreshold * routable;
  }

  snapshot(member: Candidate): OutlierSnapshot {
    const now = this.now();
    if (this.ejected.length > 0) this.expire(now);
    const state = this.states.get(member);
    if (state === undefined) {
      return { ejected: false, consecutiveFailures: 0, ejections: 0, returnsInMs: 0 };
    }
    return {
      ejected: state.until >= 0,
      consecutiveFailures: state.consecutive,
      ejections: state.until >= 0 ? state.ejections : this.decayed(state, now),
      returnsInMs: state.until >= 0 ? Math.max(0, state.until - now) : 0,
    };
  }

  private eject(member: Candidate, state: MemberOutliers, now: number): void {
    const { baseEjectionTime, maxEjectionTime } = this.config;
    state.ejections = this.decayed(state, now) + 1;
    const duration = Math.min(
      Math.max(baseEjectionTime, maxEjectionTime),
      baseEjectionTime * state.ejections,
    );
    state.since = now;
    state.until = now + duration;
    state.settledAt = now;
    this.ejected.push(member);
    if (state.until < this.nextReturn) this.nextReturn = state.until;
    this.emit({
      kind: 'ejected',
      member,
      ejections: state.ejections,
      durationMs: duration,
      consecutiveFailures: state.consecutive,
    });
  }

  /** The multiplier less one per `interval` spent in service since it was last settled. */
  private decayed(state: MemberOutliers, now: number): number {
    if (state.ejections === 0) return 0;
    const intervals = Math.floor((now - state.settledAt) / this.config.interval);
    return Math.max(0, state.ejections - intervals);
  }

  private recomputeNextReturn(): void {
    let next = Infinity;
    for (const member of this.ejected) {
      const until = this.states.get(member)!.until;
      if (until < next) next = until;
    }
    this.nextReturn = next;
  }
}
