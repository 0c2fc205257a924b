import type { RetryConfig } from '../config/types.js';

/**
 * The shortest delay before the retry with 0-based index `retryIndex`: what {@link backoffMs}
 * waits when its jitter draws its minimum.
 *
 * The schedule is p-retry 7.1.1's `calculateDelay` (index.js:52-60), which the pipeline used
 * before its retry decisions depended on the failure phase: `round(random × minTimeout ×
 * factor^retriesConsumed)` capped by `maxTimeout`, with `random` in [1, 2) when randomized, and
 * a factor that is not positive treated as 1 (index.js:180-183).
 */
export function minBackoffMs(retry: RetryConfig, retryIndex: number): number {
  const factor = retry.multiplier > 0 ? retry.multiplier : 1;
  const delay = Math.round(retry.initialInterval * factor ** Math.max(0, retryIndex));
  return Math.min(delay, retry.maxInterval);
}

/**
 * The delay before the retry with 0-based index `retryIndex`: `initialInterval ×
 * multiplier^retryIndex`, times a random factor in [1, 2) when `randomJitter` is on (so that
 * {@link minBackoffMs} is its lower bound), capped by `maxInterval`.
 */
export function backoffMs(retry: RetryConfig, retryIndex: number): number {
  const jitter = retry.randomJitter ? 1 + Math.random() : 1;
  const factor = retry.multiplier > 0 ? retry.multiplier : 1;
  const delay = Math.round(jitter * retry.initialInterval * factor ** Math.max(0, retryIndex));
  return Math.min(delay, retry.maxInterval);
}
