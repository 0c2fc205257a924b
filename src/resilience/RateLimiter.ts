import type { RateLimitConfig } from '../config/types.js';
import { monotonicClock, type Clock } from './clock.js';

/**
 * The settings a limiter reads; `enabled` is the pipeline's business (no limiter at all), and
 * `scope` decides which limiter the slot makes.
 */
export type RateLimiterSettings = Omit<RateLimitConfig, 'enabled' | 'scope' | 'timeWindow'>;

/** What the pipeline asks of a rate limiter: this host's token bucket, or a cluster one. */
export interface Limiter {
  /** Takes a token if one is available now. */
  tryTake(): boolean;
  /** Reserves a token: ms to wait before using it (0 = now), or -1 when over `maxWaitMs`. */
  reserve(maxWaitMs?: number): number;
  /** Gives back a token that was taken or reserved but not used. */
  refund(): void;
  /** Applies new settings in place (hot reload). */
  configure(config: RateLimiterSettings): void;
}

/**
 * A token bucket for one plugin: up to `burstSize` calls at once, `requestsPerSecond` on
 * average. Tokens are refilled lazily from the time elapsed since the last look, so there is
 * no timer and nothing is allocated.
 *
 * A caller that may wait uses {@link reserve}: the token is taken at once, possibly driving the
 * balance below zero, and the caller sleeps for the returned time. Later callers see the debt
 * and wait behind it, so waiters are served in order and the rate is never exceeded, however
 * many wait at once. {@link tryTake} never jumps that queue: it fails while there is a debt.
 */
export class RateLimiter implements Limiter {
  private tokens: number;
  private capacity: number;
  private perMs: number;
  private last: number;
  private readonly now: Clock;
  /** Longest wait allowed by the config (`maxWait`, ms); the default for {@link reserve}. */
  maxWait: number;

  constructor(config: RateLimiterSettings, now: Clock = monotonicClock) {
    this.now = now;
    this.capacity = Math.max(1, config.burstSize);
    this.perMs = Math.max(0, config.requestsPerSecond) / 1000;
    this.maxWait = Math.max(0, config.maxWait);
    this.tokens = this.capacity;
    this.last = now();
  }

  /** Takes a token if one is available now. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Reserves a token. Returns the ms to wait before using it (0 = use it now), or -1 when the
   * wait would exceed `maxWaitMs`; nothing is reserved then. A caller that gives up while
   * waiting should {@link refund} the token.
   */
  reserve(maxWaitMs: number = this.maxWait): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    // Rounded up, so that by the time the caller wakes the token has really been earned.
    const wait = Math.ceil((1 - this.tokens) / this.perMs);
    if (!(wait <= maxWaitMs)) return -1; // also catches Infinity/NaN when the rate is 0
    this.tokens -= 1;
    return wait;
  }

  /** Gives back a token that was taken or reserved but not used (the caller gave up). */
  refund(): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  /** Tokens available now; negative while reserved callers are waiting. */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Applies new settings in place (hot reload). Tokens earned so far at the old rate are kept
   * (capped at the new burst size) and reserved debt stays owed, so a reload never lets a burst
   * through nor strands the callers already waiting.
   */
  configure(config: RateLimiterSettings): void {
    this.refill();
    this.capacity = Math.max(1, config.burstSize);
    this.perMs = Math.max(0, config.requestsPerSecond) / 1000;
    this.maxWait = Math.max(0, config.maxWait);
    this.tokens = Math.min(this.capacity, this.tokens);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    const tokens = this.tokens + elapsed * this.perMs;
    this.tokens = tokens < this.capacity ? tokens : this.capacity;
  }
}
