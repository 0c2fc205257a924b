/**
 * A source of time in milliseconds. Only differences between two readings matter, so any
 * monotonic origin works; tests inject a plain counter instead of faking timers.
 */
export type Clock = () => number;

/**
 * The default {@link Clock}: `performance.now()`. Monotonic, so a wall-clock step (NTP, DST,
 * a VM resume) can neither open a breaker early nor refill a limiter twice.
 */
export const monotonicClock: Clock = () => performance.now();
