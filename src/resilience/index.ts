export {
  CircuitBreaker,
  PERMIT_CLOSED,
  PERMIT_DENIED,
  PERMIT_PROBE,
  type BreakerSettings,
  type BreakerSnapshot,
  type BreakerStateName,
  type CircuitBreakerOptions,
} from './breaker/CircuitBreaker.js';
export type { BreakerStrategy } from './breaker/strategy.js';
export { ConsecutiveStrategy } from './breaker/ConsecutiveStrategy.js';
export { RateStrategy, type RateStrategyOptions } from './breaker/RateStrategy.js';
export { RateLimiter, type RateLimiterSettings } from './RateLimiter.js';
export { RetryBudget } from './RetryBudget.js';
export { minBackoffMs } from './backoff.js';
export { monotonicClock, type Clock } from './clock.js';
