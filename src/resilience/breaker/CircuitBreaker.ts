import type { CircuitBreakerConfig } from '../../config/types.js';
import { monotonicClock, type Clock } from '../clock.js';
import { ConsecutiveStrategy } from './ConsecutiveStrategy.js';
import { RateStrategy, type RateStrategyOptions } from './RateStrategy.js';
import type { BreakerStrategy } from './strategy.js';

/** The permit for a call admitted while the breaker is closed. */
export const PERMIT_CLOSED = 0;
/** The permit for the single half-open probe. */
export const PERMIT_PROBE = 1;
/** No permit: the breaker is open, or the half-open probe is already in flight. */
export const PERMIT_DENIED = -1;

/** The state names users see (`plugins()`, events, metrics). */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** The settings a breaker reads; `enabled` is the pipeline's business (no breaker at all). */
export type BreakerSettings = Omit<CircuitBreakerConfig, 'enabled'>;

/** A point-in-time view of a breaker, for `manager.plugins()`. */
export interface BreakerSnapshot {
  state: BreakerStateName;
  /** Counted failures in a row (reset by a counted success, a close or `reset()`). */
  consecutiveFailures: number;
  /** When the breaker last opened, on the breaker's clock (ms); undefined if it never opened. */
  openedAt: number | undefined;
  /** While open: ms until a probe is let through; otherwise 0. */
  retryInMs: number;

  /** Times the breaker opened since it was created (`reset()` keeps this count). */
  opens: number;
}

/** Options that are not configuration: they do not change on reload. */
export interface CircuitBreakerOptions {
  /** Time source in ms; defaults to `performance.now()`. */
  now?: Clock | undefined;
  /**
   * Called synchronously on every state change. It must be quick; if it throws, the error is
   * swallowed so that a broken listener cannot break the breaker.
   */
  onTransition?: ((from: BreakerStateName, to: BreakerStateName) => void) | undefined;
}

type State =
  | { readonly kind: 'closed' }
  | { readonly kind: 'open'; readonly openedAt: number }
  | { readonly kind: 'half-open'; probing: boolean; successes: number };

// One shared object: entering `closed` allocates nothing.
const CLOSED: State = { kind: 'closed' };

/**
 * A circuit breaker for one plugin, driven by the execute pipeline around each attempt:
 *
 * ```ts
 * const permit = breaker.tryAcquire();
 * if (permit === PERMIT_DENIED) throw circuitOpenError();
 * try { const r = await attempt(); breaker.onSuccess(permit); return r; }
 * catch (e) { isFailure(e) ? breaker.onFailure(permit) : breaker.onIgnored(permit); throw e; }
 * ```
 *
 * - closed: every call goes through; the {@link BreakerStrategy} (consecutive or rate) decides
 *   when to open.
 * - open: calls are denied until the open period has passed since it opened. There is no
 *   timer: the next `tryAcquire()` (or a read of `state`) compares timestamps.
 * - half-open: exactly one probe at a time. `successThreshold` successful probes in a row close
 *   it; a failed probe reopens it at once for a longer period (see below); an ignored probe
 *   (application error, caller abort) frees the slot and changes nothing else.
 *
 * The open period is `recoveryTimeout` after the breaker opens from closed, and grows by
 * `recoveryMultiplier` with each failed probe after that, up to `maxRecoveryTimeout`
 * (exponential backoff, as resilience4j's and Polly's break-duration generators): an instance
 * that stays down is probed less and less often. Closing starts again from `recoveryTimeout`.
 *
 * Results are matched to the state that admitted them: a call admitted while closed that
 * settles after the breaker opened is not counted (a late success cannot close an open
 * breaker, a late failure cannot reopen a half-open one).
 */
export class CircuitBreaker {
  private st: State = CLOSED;
  private strategy: BreakerStrategy;
  private recoveryTimeout: number;
  private recoveryMultiplier: number;
  private maxRecoveryTimeout: number;
  /** Failed probes since the breaker last closed: the exponent of the backoff. */
  private failedProbes = 0;
  /** The current open period, ms (kept from `failedProbes` and the settings). */
  private openPeriod: number;
  private successThreshold: number;
  private consecutive = 0;
  private lastOpenedAt: number | undefined;
  private opens = 0;
  private readonly now: Clock;
  private readonly listener: CircuitBreakerOptions['onTransition'];

  constructor(config: BreakerSettings, options: CircuitBreakerOptions = {}) {
    this.now = options.now ?? monotonicClock;
    this.listener = options.onTransition;
    this.strategy = createStrategy(config);
    this.recoveryTimeout = config.recoveryTimeout;
    this.recoveryMultiplier = config.recoveryMultiplier;
    this.maxRecoveryTimeout = config.maxRecoveryTimeout;
    this.openPeriod = config.recoveryTimeout;
    this.successThreshold = Math.max(1, config.successThreshold);
  }

  /**
   * Asks to make one call. Returns {@link PERMIT_CLOSED} or {@link PERMIT_PROBE} when the call
   * may go ahead (report its outcome with that permit), {@link PERMIT_DENIED} when it may not.
   */
  tryAcquire(): number {
    const st = this.st;
    if (st.kind === 'closed') return PERMIT_CLOSED;
    if (st.kind === 'open') {
      if (this.now() - st.openedAt < this.openPeriod) return PERMIT_DENIED;
      this.transition({ kind: 'half-open', probing: true, successes: 0 });
      return PERMIT_PROBE;
    }
    if (st.probing) return PERMIT_DENIED;
    st.probing = true;
    return PERMIT_PROBE;
  }

  /** True when `tryAcquire()` would grant a permit now, without taking it; for load balancers. */
  canAcquire(): boolean {
    const st = this.refresh();
    return st.kind === 'closed' || (st.kind === 'half-open' && !st.probing);
  }

  /** The call admitted with `permit` succeeded. */
  onSuccess(permit: number): void {
    const st = this.st;
    if (permit === PERMIT_CLOSED) {
      if (st.kind !== 'closed') return; // late: admitted before the breaker opened
      this.consecutive = 0;
      const strategy = this.strategy;
      strategy.success(strategy.timed ? this.now() : 0);
    } else if (permit === PERMIT_PROBE) {
      if (st.kind !== 'half-open' || !st.probing) return;
      st.probing = false;
      st.successes++;
      this.consecutive = 0;
      if (st.successes >= this.successThreshold) this.close();
    }
  }

  /** The call admitted with `permit` failed in a way that counts (transport, timeout, 5xx…). */
  onFailure(permit: number): void {
    const st = this.st;
    if (permit === PERMIT_CLOSED) {
      if (st.kind !== 'closed') return; // late: the breaker already opened without it
      this.consecutive++;
      const now = this.now();
      if (this.strategy.failure(now)) this.open(now);
    } else if (permit === PERMIT_PROBE) {
      if (st.kind !== 'half-open' || !st.probing) return;
      this.consecutive++;
      this.failedProbes++;
      this.openPeriod = this.period();
      this.open(this.now());
    }
  }

  /**
   * The call admitted with `permit` ended in a way that says nothing about the plugin's health
   * (its own application error, the caller's abort, a rejection before sending). Not counted;
   * a probe only gives its slot back, so the next call probes instead.
   */
  onIgnored(permit: number): void {
    const st = this.st;
    if (permit === PERMIT_PROBE && st.kind === 'half-open') st.probing = false;
  }

  /** The current state. An open breaker whose open period has passed reads as half-open. */
  get state(): BreakerStateName {
    return this.refresh().kind;
  }

  /** A point-in-time view for `plugins()`. */
  snapshot(): BreakerSnapshot {
    const st = this.refresh();
    return {
      state: st.kind,
      consecutiveFailures: this.consecutive,
      openedAt: this.lastOpenedAt,
      retryInMs: st.kind === 'open' ? Math.max(0, st.openedAt + this.openPeriod - this.now()) : 0,
      opens: this.opens,
    };
  }

  /** Closes the breaker and forgets its statistics (the `opens` count is kept). */
  reset(): void {
    this.close();
  }

  /**
   * Applies new settings in place (hot reload): the state, an open breaker's `openedAt` and a
   * half-open breaker's progress are kept. New recovery settings apply to the current open
   * period too (the failed probes counted so far keep their weight). Changing `mode` (or the rate `windowMs`) starts the statistics afresh.
   */
  configure(config: BreakerSettings): void {
    this.recoveryTimeout = config.recoveryTimeout;
    this.recoveryMultiplier = config.recoveryMultiplier;
    this.maxRecoveryTimeout = config.maxRecoveryTimeout;
    this.openPeriod = this.period();
    this.successThreshold = Math.max(1, config.successThreshold);
    const strategy = this.strategy;
    if (config.mode === 'rate' && strategy instanceof RateStrategy) {
      strategy.configure(rateOptions(config));
    } else if (config.mode !== 'rate' && strategy instanceof ConsecutiveStrategy) {
      strategy.failureThreshold = config.failureThreshold;
    } else {
      this.strategy = createStrategy(config);
    }
    // A half-open breaker that already has enough successes under the new threshold closes.
    const st = this.st;
    if (st.kind === 'half-open' && !st.probing && st.successes >= this.successThreshold) {
      this.close();
    }
  }

  /** Performs the lazy open → half-open step, so every reader sees the same state. */
  private refresh(): State {
    const st = this.st;
    if (st.kind === 'open' && this.now() - st.openedAt >= this.openPeriod) {
      this.transition({ kind: 'half-open', probing: false, successes: 0 });
    }
    return this.st;
  }

  private open(now: number): void {
    this.lastOpenedAt = now;
    this.opens++;
    this.transition({ kind: 'open', openedAt: now });
  }

  /** `recoveryTimeout` × `recoveryMultiplier`^failed probes, capped by `maxRecoveryTimeout`. */
  private period(): number {
    const base = this.recoveryTimeout;
    const cap = Math.max(base, this.maxRecoveryTimeout);
    // Past the cap the power only grows: stop before it overflows to Infinity × 0 = NaN.
    const grown = base * Math.pow(Math.max(1, this.recoveryMultiplier), this.failedProbes);
    return Number.isFinite(grown) ? Math.min(cap, grown) : cap;
  }

  private close(): void {
    this.consecutive = 0;
    this.failedProbes = 0;
    this.openPeriod = this.recoveryTimeout;
    this.strategy.reset();
    this.transition(CLOSED);
  }

  private transition(next: State): void {
    const from = this.st.kind;
    this.st = next;
    if (from === next.kind || this.listener === undefined) return;
    try {
      this.listener(from, next.kind);
    } catch {
      // A listener's bug must not change how the breaker protects the plugin.
    }
  }
}

function createStrategy(config: BreakerSettings): BreakerStrategy {
  return config.mode === 'rate'
    ? new RateStrategy(rateOptions(config))
    : new ConsecutiveStrategy(config.failureThreshold);
}

function rateOptions(config: BreakerSettings): RateStrategyOptions {
  return {
    errorThresholdPercentage: config.errorThresholdPercentage,
    minRequestThreshold: config.minRequestThreshold,
    windowMs: config.windowMs,
  };
}
