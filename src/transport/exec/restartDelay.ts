/** How a crashed exec child is restarted. */
export interface RestartPolicy {
  /** Delay before the first restart, ms. */
  initialMs: number;
  /** Longest delay between restarts, ms. */
  maxMs: number;
  /** A child that stayed up this long resets the delay to `initialMs`. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialMs: 100,
  maxMs: 10_000,
  stableAfterMs: 10_000,
};

/** The delay before restart number `attempt` (0-based): doubling from `initialMs` up to `maxMs`. */
export function restartDelay(attempt: number, policy: RestartPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
}
