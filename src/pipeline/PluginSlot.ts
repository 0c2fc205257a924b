import type {
  HealthCheckConfig,
  HedgingConfig,
  PluginConfig,
  RetryBudgetConfig,
  RetryConfig,
} from '../config/types.js';
import type { CircuitState, PluginState } from '../states.js';
import { blockReason, type BlockReason } from '../balance/availability.js';
import type { GroupMember } from '../balance/GroupRoute.js';
import { PeakEwma } from '../balance/PeakEwma.js';
import type { RemoteLoad } from '../balance/remote.js';
import { Counters, type CounterSnapshot } from '../observe/stats.js';
import { CircuitBreaker } from '../resilience/breaker/CircuitBreaker.js';
import { RateLimiter, type Limiter, type RateLimiterSettings } from '../resilience/RateLimiter.js';
import { RetryBudget } from '../resilience/RetryBudget.js';
import type { HealthStatus, Plugin } from '../types.js';
import { ErrorCode, PluginError } from '../errors.js';

export type { PluginState } from '../states.js';

/** What a route may consider when it picks an instance for an attempt. */
export interface RouteRequest {
  /** Routing key (`ExecuteOptions.key`), for consistent hashing. */
  readonly key: string | undefined;
  /** Logical operation (`ExecuteOptions.operation`), for adaptive balancing. */
  readonly operation: string | undefined;
  /** Instances this call already tried, oldest first: groups fail over to another one. */
  readonly tried: readonly PluginSlot[];
}

/** What the pipeline needs from an execute target: a plugin, or a group of them. */
export interface Route {
  readonly name: string;
  /** Retry policy and deadline cap for calls to this target. */
  readonly retry: RetryConfig;
  readonly requestTimeout: number;
  readonly budget: RetryBudget;
  /** Calls may run twice without harm (the plugin's or group's `idempotent`). */
  readonly idempotent: boolean;
  /** Hedging of idempotent calls (groups only); undefined: off. */
  readonly hedging?: HedgingConfig | undefined;
  /** Groups: the members (a failover backs off once every one had a not-sent failure). */
  readonly members?: readonly PluginSlot[];
  /** Groups: whether a member is available that the call has not tried and is not running on. */
  hasUntried?(tried: readonly PluginSlot[], running: PluginSlot | undefined): boolean;
  /** The instance for the next attempt, or undefined when none can take it. */
  pick(request: RouteRequest): PluginSlot | undefined;
  /** The error to return when {@link Route.pick} found nothing: says why. */
  unavailable(attempts: number): PluginError;
  /** When nothing could be picked because the target is starting: resolves when it is done. */
  starting?(): Promise<void> | undefined;
  /**
   * How an attempt on `slot` ended (groups feed latency-aware strategies with it): `ok` is false
   * for failures, true when the plugin answered. Not called for caller aborts.
   */
  observe?(slot: PluginSlot, operation: string | undefined, latencyMs: number, ok: boolean): void;
}

/** Where a slot gets a `rateLimit.scope: cluster` limiter (the cluster node). */
export interface ClusterLimits {
  limiter(plugin: string, settings: RateLimiterSettings): Limiter;
  /** This replica saw `plugin` fail (its breaker opened): the other replicas probe it sooner. */
  hint(plugin: string): void;
}

/**
 * What a slot needs from whatever supervises it (startup attempts, recovery, health checks):
 * the supervisor reports back to the slot's owner, never through this interface.
 */
export interface SlotSupervisor {
  /** Starts the plugin; resolves once it is ready or its first attempts ran out. Never rejects. */
  start(): Promise<void>;
  /** Stops the attempts and the health checks. Idempotent. */
  stop(): void;
  /** A reload changed the health-check settings. */
  healthCheckChanged(config: HealthCheckConfig): void;
  /** Runs one health check now (another replica hinted that the plugin failed); none when off. */
  probe(): void;
}

/** A read-only view of one plugin for `manager.plugins()`. */
export interface PluginSnapshot {
  name: string;
  transport: string;
  group: string | undefined;
  state: PluginState;
  enabled: boolean;
  weight: number;
  priority: number;
  health: HealthStatus;
  breaker: { state: CircuitState; consecutiveFailures: number; opens: number } | undefined;
  /** Attempts running now. */
  inFlight: number;
  /** Share of finished attempts that succeeded or got the plugin's own answer (0..1); 1 before any. */
  successRate: number;
  /** Peak-EWMA latency estimate (ms) that latency-aware balancing reads; 0 before any call. */
  latencyEwmaMs: number;
  startAttempts: number;
  lastError: string | undefined;
  stats: CounterSnapshot;
}

/**
 * The runtime slot of one plugin: the instance, its policies and its counters. The pipeline reads
 * slots; reload replaces what is inside them. A slot is also the {@link Route} of its own name.
 */
export class PluginSlot<Req = unknown, Resp = unknown> implements Route, GroupMember {
  state: PluginState = 'pending';
  readonly counters = new Counters();
  health: HealthStatus = { status: 'unknown', lastCheck: 0, responseTimeMs: 0 };
  startAttempts = 0;
  lastError: string | undefined;
  breaker: CircuitBreaker | undefined;
  /** Startup, recovery and health checks; set by the slot's owner. */
  lifecycle: SlotSupervisor | undefined;
  limiter: Limiter | undefined;
  readonly budget: RetryBudget;
  /** Latency estimate read by latency-aware group strategies; fed by the group route. */
  readonly latency = new PeakEwma();
  /** Cluster mode: the other replicas' load on this plugin, set by the cluster's load view. */
  remote: RemoteLoad | undefined = undefined;

  private limiterScope: 'local' | 'cluster' | undefined;
  private startWaiters: Array<() => void> | undefined;

  constructor(
    readonly plugin: Plugin<Req, Resp>,
    public config: PluginConfig,
    budgetConfig: RetryBudgetConfig,
    private readonly onBreakerTransition: (
      slot: PluginSlot,
      from: CircuitState,
      to: CircuitState,
    ) => void,
    /** Makes `rateLimit.scope: cluster` limiters; absent when no cluster is configured. */
    private readonly clusterLimits?: ClusterLimits,
  ) {
    this.budget = new RetryBudget(budgetConfig);
    this.configure(config);
  }

  get retry(): RetryConfig {
    return this.config.retry;
  }

  get requestTimeout(): number {
    return this.config.connection.requestTimeout;
  }

  get idempotent(): boolean {
    return this.config.idempotent;
  }

  /**
   * Applies a config to the live plugin (construction, and reload changes it can take in place):
   * breaker and limiter thresholds keep their state; turning one on or off creates or drops it.
   */
  configure(config: PluginConfig): void {
    this.config = config;
    const { circuitBreaker, rateLimit } = config;
    if (!circuitBreaker.enabled) this.breaker = undefined;
    else if (this.breaker) this.breaker.configure(circuitBreaker);
    else {
      this.breaker = new CircuitBreaker(circuitBreaker, {
        onTransition: (from, to) => this.onBreakerTransition(this as PluginSlot, from, to),
      });
    }
    const scope = rateLimit.enabled ? rateLimit.scope : undefined;
    if (scope === undefined) this.limiter = undefined;
    else if (this.limiter !== undefined && this.limiterScope === scope) {
      this.limiter.configure(rateLimit);
    } else if (scope === 'cluster' && this.clusterLimits !== undefined) {
      this.limiter = this.clusterLimits.limiter(config.name, rateLimit);
    } else {
      // The config rules refuse a cluster scope without a cluster: this is the local limit.
      this.limiter = new RateLimiter(rateLimit);
    }
    this.limiterScope = scope;
    this.lifecycle?.healthCheckChanged(config.healthCheck);
  }

  /** Moves to `to`; returns the state it left. Wakes calls waiting for the start to end. */
  moveTo(to: PluginState): PluginState {
    const from = this.state;
    this.state = to;
    if (to !== 'pending' && to !== 'starting' && this.startWaiters !== undefined) {
      const waiters = this.startWaiters;
      this.startWaiters = undefined;
      for (const wake of waiters) wake();
    }
    return from;
  }

  /**
   * While the plugin is being started (initially, or as the new instance of a reload), a promise
   * that resolves when that ends, so that a call can wait for it within its deadline; otherwise
   * undefined: nothing to wait for.
   */
  starting(): Promise<void> | undefined {
    if (!this.config.enabled || (this.state !== 'pending' && this.state !== 'starting')) {
      return undefined;
    }
    return new Promise((resolve) => (this.startWaiters ??= []).push(resolve));
  }

  private idleWaiters: Array<() => void> | undefined;

  /** Resolves when no attempt runs on this plugin (now, or as soon as the last one ends). */
  idle(): Promise<void> {
    if (this.counters.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve));
  }

  /** @internal called by the pipeline when an attempt on this plugin ends. */
  attemptEnded(): void {
    if (--this.counters.inFlight === 0 && this.idleWaiters !== undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = undefined;
      for (const resolve of waiters) resolve();
    }
  }

  get name(): string {
    return this.config.name;
  }

  get weight(): number {
    return this.config.weight;
  }

  get priority(): number {
    return this.config.priority;
  }

  get inFlight(): number {
    return this.counters.inFlight;
  }

  /** `connection.maxConnections + maxPending` attempts are in flight: the next is refused. */
  get queueFull(): boolean {
    const { maxConnections, maxPending } = this.config.connection;
    return this.counters.inFlight >= maxConnections + maxPending;
  }

  /** Why a group should pass this plugin over now (undefined: it can take a call). */
  get blocked(): BlockReason | undefined {
    return blockReason(this);
  }

  get available(): boolean {
    return blockReason(this) === undefined;
  }

  /** Whether calls may be routed here at all. */
  get routable(): boolean {
    return this.state === 'ready' && this.config.enabled;
  }

  pick(): PluginSlot | undefined {
    return this.routable ? (this as PluginSlot) : undefined;
  }

  unavailable(attempts: number): PluginError {
    const plugin = this.name;
    if (!this.config.enabled) {
      return new PluginError(ErrorCode.PluginNotEnabled, `Plugin '${plugin}' is disabled`, {
        plugin,
        attempts,
      });
    }
    const why = this.lastError === undefined ? '' : `, last error: ${this.lastError}`;
    return new PluginError(
      ErrorCode.PluginNotReady,
      `Plugin '${plugin}' is not ready (state: ${this.state}${why})`,
      { plugin, attempts, retryable: this.state === 'pending' || this.state === 'starting' },
    );
  }

  snapshot(): PluginSnapshot {
    const breaker = this.breaker?.snapshot();
    return {
      name: this.name,
      transport: this.config.transport,
      group: this.config.group,
      state: this.state,
      enabled: this.config.enabled,
      weight: this.config.weight,
      priority: this.config.priority,
      health: { ...this.health },
      breaker: breaker && {
        state: breaker.state,
        consecutiveFailures: breaker.consecutiveFailures,
        opens: breaker.opens,
      },
      inFlight: this.counters.inFlight,
      successRate: successRate(this.counters),
      latencyEwmaMs: this.latency.estimate(),
      startAttempts: this.startAttempts,
      lastError: this.lastError,
      stats: this.counters.snapshot(),
    };
  }
}

function successRate(counters: Counters): number {
  const answered = counters.success + counters.applicationError;
  const finished = answered + counters.failure;
  return finished === 0 ? 1 : answered / finished;
}
