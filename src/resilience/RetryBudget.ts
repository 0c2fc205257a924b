import type { RetryBudgetConfig } from '../config/types.js';
import { monotonicClock, type Clock } from './clock.js';

// Deposits of `ratio` do not add up exactly in binary (0.2 × 5 < 1); this keeps 5 calls at
// ratio 0.2 worth exactly one retry.
const EPSILON = 1e-9;

/**
 * Limits retries to a fraction of calls, so that retries cannot multiply the load on a plugin
 * that is already failing (Finagle's RetryBudget, gRPC's retry throttling).
 *
 * Every call deposits `ratio` tokens, every retry withdraws one. On top of that, `minPerSecond`
 * retries are always allowed in each second, so a quiet service can still retry. The balance is
 * capped (`max(10, ratio × 1000)`) so that a long healthy period does not bank a flood of
 * retries for the next outage. No timer, no allocation.
 */
export class RetryBudget {
  private ratio = 0;
  private minPerSecond = 0;
  private cap = 0;
  private balance = 0;
  /** The second (`floor(now / 1000)`) the floor counter belongs to. */
  private floorSecond = Number.NEGATIVE_INFINITY;
  private floorUsed = 0;
  private readonly now: Clock;

  constructor(config: RetryBudgetConfig, now: Clock = monotonicClock) {
    this.now = now;
    this.configure(config);
  }

  /** Records one call (not a retry): deposits `ratio` tokens. */
  recordCall(): void {
    const balance = this.balance + this.ratio;
    this.balance = balance < this.cap ? balance : this.cap;
  }

  /**
   * Asks for one retry. The per-second floor is used first (unused floor is lost at the end of
   * the second anyway), then the balance. Returns false when the budget is spent.
   */
  tryWithdraw(): boolean {
    if (this.minPerSecond > 0) {
      const second = Math.floor(this.now() / 1000);
      if (second !== this.floorSecond) {
        this.floorSecond = second;
        this.floorUsed = 0;
      }
      if (this.floorUsed < this.minPerSecond) {
        this.floorUsed++;
        return true;
      }
    }
    if (this.balance < 1 - EPSILON) return false;
    this.balance = Math.max(0, this.balance - 1);
    return true;
  }

  /** Retries the balance allows now, not counting the per-second floor. */
  get available(): number {
    return Math.floor(this.balance + EPSILON);
  }

  /** Applies new settings in place; the balance is kept, capped at the new maximum. */
  configure(config: RetryBudgetConfig): void {
    this.ratio = Math.max(0, config.ratio);
    this.minPerSecond = Math.max(0, config.minPerSecond);
    this.cap = Math.max(10, this.ratio * 1000);
    this.balance = Math.min(this.balance, this.cap);
  }
}
