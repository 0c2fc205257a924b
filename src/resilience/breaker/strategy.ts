/**
 * Decides when a closed circuit breaker should open. The breaker tells the strategy about every
 * counted outcome while it is closed; the strategy only keeps statistics and answers "open now?".
 * State, probes and timing belong to the breaker, so a new strategy is one small file.
 *
 * Implementations must not allocate per call: they sit on every attempt's path.
 */
export interface BreakerStrategy {
  /** Whether `success`/`failure` read `now`; when not, the breaker skips reading its clock. */
  readonly timed: boolean;
  /** A counted call succeeded at `now` (clock ms). */
  success(now: number): void;
  /** A counted call failed at `now` (clock ms). Returns true when the breaker should open. */
  failure(now: number): boolean;
  /** Forget every statistic (the breaker closed again, or was reset). */
  reset(): void;
}
