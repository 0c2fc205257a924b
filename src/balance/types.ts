import type { Clock } from '../resilience/clock.js';

/**
 * A running estimate of one instance's latency, read by latency-aware strategies
 * (`least-latency`, `p2c`). plugwire ships `PeakEwma`.
 */
export interface LatencyTracker {
  /**
   * The estimate in ms, decayed to `now`; 0 when nothing was observed yet. `now` is a reading of
   * the tracker's own clock (default: read it). Strategies read the clock once per pick and pass
   * it to every tracker, since a clock read costs more than the estimate.
   */
  estimate(now?: number): number;
  /** Records the latency of one attempt. */
  observe(latencyMs: number): void;
  /**
   * Forgets the history and starts again from this one measurement: a probe of a member whose
   * estimate was stale (see `Probes`). Trackers without it keep blending.
   */
  restart?(latencyMs: number): void;
}

/**
 * What a strategy reads of one instance of a group. Strategies never change a candidate; the
 * pipeline keeps `inFlight` and the tracker up to date (a strategy may only tell the tracker to
 * {@link LatencyTracker.restart} from a probe's measurement).
 */
export interface Candidate {
  readonly name: string;
  /** Relative share of traffic (`weighted-random`, `consistent-hash`, `least-connections`). */
  readonly weight: number;
  /** Higher is preferred (`priority`, and the primary of `adaptive`). */
  readonly priority: number;
  /** Attempts running on this instance now. */
  readonly inFlight: number;
  readonly latency: LatencyTracker;
  /**
   * Whether the instance may take a call now: routable (ready, enabled, not draining), its
   * circuit breaker would grant a permit, and its health is not `unhealthy`/`offline`.
   */
  readonly available: boolean;
  /**
   * Cluster mode (docs/cluster.md): what the other host replicas last published about this
   * instance; undefined when cluster mode is off or no other replica's view is fresh. The
   * built-in `least-connections`, `p2c` and `adaptive` add it to what this replica sees.
   */
  readonly remote?: RemoteLoad | undefined;
}

/**
 * One selection. Strategies choose among the candidates `accepts()` lets through: the route
 * decides which ones (available, untried, or panic mode), strategies decide which of them.
 */
export interface PickRequest {
  /** Routing key (`ExecuteOptions.key`), for `consistent-hash`. */
  readonly key: string | undefined;
  /** Logical operation (`ExecuteOptions.operation`), for `adaptive`. */
  readonly operation: string | undefined;
  /** Whether the strategy may return `candidate` for this attempt. */
  accepts(candidate: Candidate): boolean;
}

/**
 * A load-balancing strategy: a small object created per group by a registered factory
 * (like grpc-js's LB policies). Picks are synchronous and must not allocate per call where
 * the strategy allows it.
 */
export interface Balancer {
  /**
   * Chooses one of `candidates` that `request.accepts()`, or undefined when none is accepted.
   * `candidates` is the group's member list: the same array until membership changes.
   */
  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined;
  /**
   * Membership, a weight or a priority changed: rebuild what was derived from the members
   * (rings, prefix sums, tiers). Strategies that derive nothing leave it out.
   */
  update?(members: readonly Candidate[]): void;
  /**
   * A hint that `candidate` is worth measuring again soon (another replica saw it recover, it
   * came back from an ejection): latency-aware strategies probe it the next time it is drawn,
   * however poorly they rate it. Strategies that do not rate members leave it out.
   */
  probe?(candidate: Candidate): void;
  /** An attempt on `candidate` ended after `latencyMs`; `ok` is false for a failure. */
  observe?(
    candidate: Candidate,
    operation: string | undefined,
    latencyMs: number,
    ok: boolean,
  ): void;
}

/** What a strategy may need besides its options; injected in tests and benchmarks. */
export interface BalancerDeps {
  /** Uniform random numbers in [0, 1); defaults to `Math.random`. */
  random?: (() => number) | undefined;
  /** Time source in ms; defaults to `performance.now()`. */
  now?: Clock | undefined;
}

/**
 * Creates a strategy from the group's `options` (already checked to be a plain object).
 * Throws a `ConfigError` when an option is unknown or invalid.
 */
export type BalancerFactory = (
  options: Readonly<Record<string, unknown>>,
  deps: BalancerDeps,
) => Balancer;

/**
 * Cluster mode: what the other host replicas last published about one member (summed over the
 * replicas whose view is fresh). Undefined on a candidate when cluster mode is off, or no other
 * replica's view is fresh: strategies then see this replica's traffic alone.
 */
export interface RemoteLoad {
  /** Attempts the other replicas have in flight on the member. */
  readonly inFlight: number;
  /**
   * Work (ms) the other replicas have in flight on the member, as their `p2c` costs it; 0 when
   * they do not cost it (then {@link RemoteLoad.inFlight} is all there is).
   */
  readonly work: number;
  /** Mean of the other replicas' latency estimates of the member (ms); 0 when none has one. */
  readonly latency: number;
}
