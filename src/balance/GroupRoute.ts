import { DEFAULT_POLICY, DEFAULT_RETRY_BUDGET } from '../config/defaults.js';
import type { HedgingConfig, RetryConfig } from '../config/types.js';
import { ErrorCode, PluginError } from '../errors.js';
import { RetryBudget } from '../resilience/RetryBudget.js';
import type { BlockReason } from './availability.js';
import type { OutlierDetector } from './OutlierDetector.js';
import type { Balancer, Candidate, PickRequest } from './types.js';

/** The retry policy, deadline cap and retry budget of calls to a target. */
export interface RoutePolicy {
  readonly retry: RetryConfig;
  readonly requestTimeout: number;
  readonly budget: RetryBudget;
}

/** A group's own policy (the `groups.<name>` section over `defaults`). */
export interface GroupPolicy extends RoutePolicy {
  /** Calls to the group may run twice without harm (per call: `ExecuteOptions.idempotent`). */
  readonly idempotent: boolean;
  /** Hedging of idempotent calls; undefined: off. */
  readonly hedging: HedgingConfig | undefined;
}

/**
 * What a group needs of each member: a {@link Candidate}, why it is blocked (for panic mode and
 * error messages), and its own policy (used when the member is called by name; the group has
 * its own, see {@link GroupPolicy}).
 */
export interface GroupMember extends Candidate, RoutePolicy {
  /** Why the member cannot take a call now; undefined exactly when `available` is true. */
  readonly blocked: BlockReason | undefined;
  /** While the member is starting, resolves when its start ends. */
  starting?(): Promise<void> | undefined;
}

/** One attempt's request, as the pipeline's `RouteRequest`. */
export interface GroupRequest {
  readonly key: string | undefined;
  readonly operation: string | undefined;
  /** Members this call already tried, oldest first. */
  readonly tried: readonly unknown[];
}

// Which members a selection pass accepts.
const AVAILABLE_UNTRIED = 0;
const AVAILABLE = 1;
const PANIC_UNTRIED = 2;
const PANIC = 3;

const NONE: readonly unknown[] = Object.freeze([]);

/**
 * The {@link PickRequest} of one group, reused by every pick (picks are synchronous): no object
 * or closure is built per call.
 */
class Selection implements PickRequest {
  key: string | undefined = undefined;
  operation: string | undefined = undefined;
  pass = AVAILABLE;
  tried: readonly unknown[] = NONE;
  /** Ejected members, passed over outside panic mode (undefined: none). */
  excluded: readonly unknown[] | undefined = undefined;

  accepts(candidate: Candidate): boolean {
    switch (this.pass) {
      case AVAILABLE:
        return (
          candidate.available && (this.excluded === undefined || !this.excluded.includes(candidate))
        );
      case AVAILABLE_UNTRIED:
        return (
          candidate.available &&
          !this.tried.includes(candidate) &&
          (this.excluded === undefined || !this.excluded.includes(candidate))
        );
      case PANIC_UNTRIED:
        return panicEligible(candidate) && !this.tried.includes(candidate);
      default:
        return panicEligible(candidate);
    }
  }
}

// Panic mode ignores health only: never a disabled, draining, closed or breaker-denied member.
function panicEligible(candidate: Candidate): boolean {
  const blocked = (candidate as GroupMember).blocked;
  return blocked === undefined || blocked === 'unhealthy';
}

const REASON_TEXT: Record<BlockReason, string> = {
  disabled: 'disabled',
  starting: 'still starting',
  failed: 'failed to start',
  draining: 'draining',
  closed: 'closed',
  'circuit-open': 'with an open circuit breaker',
  'queue-full': 'with a full queue',
  unhealthy: 'unhealthy',
};

// Failed attempts are recorded as at least this slow (ms), and at least twice the current
// estimate: an instance that fails fast must not look fast to latency-aware strategies.
const FAILURE_FLOOR_MS = 250;

/**
 * The route of a group of plugins: picks the member for each attempt with a {@link Balancer}.
 *
 * Each pick tries, in order, until one finds a member:
 * 1. available members the call has not tried yet (a retry fails over to another instance);
 * 2. available members, tried ones included;
 * 3. panic mode: members that are only unhealthy or ejected, untried first. When every member
 *    looks unhealthy the health checks are as likely to be wrong as the members, so the group
 *    still tries rather than fails without trying. Disabled, draining, closed members and
 *    members whose circuit breaker denies a call are never picked.
 *
 * With outlier detection ({@link GroupRoute.detectOutliers}), ejected members are passed over in
 * 1 and 2, unless the group is below its panic threshold (then they are picked like the others).
 * When none is found, {@link GroupRoute.unavailable} says why (`LOADBALANCER_1701`).
 *
 * `GroupRoute<PluginSlot>` is the pipeline's `Route` for a group once `PluginSlot` implements
 * {@link GroupMember}.
 */
export class GroupRoute<M extends GroupMember> {
  /** Picks made in panic mode (every member blocked but some only unhealthy). */
  panicPicks = 0;
  private list: readonly M[];
  private readonly selection = new Selection();
  private outliers: OutlierDetector | undefined;

  /**
   * @param name the group name (the `execute()` target)
   * @param members the group's plugins, in config order (the order `priority` and `adaptive`
   *   use among equal priorities)
   * @param balancer the group's strategy, see `createBalancer()`
   * @param policy retry policy, deadline, budget, idempotency and hedging of calls to the
   *   group; by default the built-in defaults with a budget of its own (never a member's)
   */
  constructor(
    readonly name: string,
    members: readonly M[],
    readonly balancer: Balancer,
    policy?: Partial<GroupPolicy>,
  ) {
    this.list = Object.freeze([...members]);
    this.retry = policy?.retry ?? DEFAULT_POLICY.retry;
    this.requestTimeout = policy?.requestTimeout ?? DEFAULT_POLICY.connection.requestTimeout;
    this.budget = policy?.budget ?? new RetryBudget(DEFAULT_RETRY_BUDGET);
    this.idempotent = policy?.idempotent ?? false;
    this.hedging = policy?.hedging;
    balancer.update?.(this.list);
  }

  readonly retry: RetryConfig;
  readonly requestTimeout: number;
  readonly budget: RetryBudget;
  readonly idempotent: boolean;
  readonly hedging: HedgingConfig | undefined;

  get members(): readonly M[] {
    return this.list;
  }

  /** Members a call may still go to: available, and not among `tried` nor `running`. */
  hasUntried(tried: readonly unknown[], running: unknown): boolean {
    for (const member of this.list) {
      if (member.available && member !== running && !tried.includes(member)) return true;
    }
    return false;
  }

  /** Replaces the members (a plugin joined, left or was swapped by a reload). */
  setMembers(members: readonly M[]): void {
    this.list = Object.freeze([...members]);
    this.balancer.update?.(this.list);
    this.outliers?.retain(this.list);
  }

  /** Turns outlier ejection on with `detector` (see {@link OutlierDetector}), or off. */
  detectOutliers(detector: OutlierDetector | undefined): void {
    this.outliers = detector;
  }

  /** The group's outlier detector, when ejection is on. */
  get outlierDetector(): OutlierDetector | undefined {
    return this.outliers;
  }

  /** A member's weight or priority changed in place: let the strategy rebuild. */
  refresh(): void {
    this.balancer.update?.(this.list);
  }

  /**
   * A hint that `member` is worth measuring again soon (it came back from an ejection, another
   * replica saw it recover): latency-aware strategies probe it the next time they draw it,
   * however poorly they rate it (see docs/balancing.md, Recovery). Other strategies ignore it.
   */
  probe(member: M): void {
    this.balancer.probe?.(member);
  }

  /** The member for the next attempt, or undefined when none can take it. */
  pick(request: GroupRequest): M | undefined {
    const list = this.list;
    if (list.length === 0) return undefined;
    const selection = this.selection;
    const tried = request.tried;
    selection.key = request.key;
    selection.operation = request.operation;
    selection.tried = tried;
    const outliers = this.outliers;
    selection.excluded = outliers === undefined ? undefined : outliers.excluding(list);
    let member: M | undefined;
    if (tried.length === 0) {
      member = this.pass(AVAILABLE) ?? this.pass(PANIC);
    } else {
      member =
        this.pass(AVAILABLE_UNTRIED) ??
        this.pass(AVAILABLE) ??
        this.pass(PANIC_UNTRIED) ??
        this.pass(PANIC);
    }
    selection.tried = NONE; // do not keep the call's list alive
    selection.excluded = undefined;
    return member;
  }

  private pass(mode: number): M | undefined {
    this.selection.pass = mode;
    const member = this.balancer.pick(this.list, this.selection);
    if (member !== undefined && mode >= PANIC_UNTRIED) this.panicPicks++;
    return member;
  }

  /**
   * Records how an attempt on `member` ended: updates its latency tracker and tells the
   * strategy. Call it once per attempt that reached the member, with `ok` false for failures
   * (transport errors, timeouts) and true when the member answered (a result or its own
   * application error); not for caller aborts.
   */
  observe(member: M, operation: string | undefined, latencyMs: number, ok: boolean): void {
    const tracker = member.latency;
    if (ok) {
      tracker.observe(latencyMs);
    } else {
      const penalty = Math.min(
        this.requestTimeout,
        Math.max(FAILURE_FLOOR_MS, 2 * tracker.estimate()),
      );
      tracker.observe(Math.max(latencyMs, penalty));
    }
    this.balancer.observe?.(member, operation, latencyMs, ok);
    this.outliers?.observe(member, ok, this.list.length);
  }

  /**
   * When no member could be picked but some are still starting: resolves as soon as one of them
   * is done, so the call can wait within its deadline. Undefined when nothing is starting.
   */
  starting(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const member of this.list) {
      const wait = member.starting?.();
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    return waits === undefined ? undefined : Promise.race(waits);
  }

  /** The error for a call that found no member: names the group and why each was passed over. */
  unavailable(attempts: number): PluginError {
    const group = this.name;
    const list = this.list;
    if (list.length === 0) {
      return new PluginError(
        ErrorCode.NoAvailablePlugins,
        `Group '${group}' has no plugins: add plugins with group: ${group}`,
        { plugin: group, attempts, retryable: false, details: { group, members: 0 } },
      );
    }
    const counts = new Map<BlockReason, number>();
    for (const member of list) {
      const reason = member.blocked;
      if (reason !== undefined) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    const reasons = [...counts]
      .map(([reason, count]) =>
        count === list.length ? `all ${REASON_TEXT[reason]}` : `${count} ${REASON_TEXT[reason]}`,
      )
      .join(', ');
    const why = reasons === '' ? 'the strategy selected none' : reasons;
    const full = counts.get('queue-full') === list.length;
    return new PluginError(
      // Every member overloaded: the same code as one overloaded plugin, retryable elsewhere.
      full ? ErrorCode.PluginQueueFull : ErrorCode.NoAvailablePlugins,
      `No plugin of group '${group}' can take the call (${list.length} member${list.length === 1 ? '' : 's'}: ${why})`,
      {
        plugin: group,
        attempts,
        // A member still starting may be ready on the next attempt; nothing else will be soon.
        retryable: full || counts.has('starting'),
        details: { group, members: list.length, blocked: Object.fromEntries(counts) },
      },
    );
  }
}
