import type { BreakerStrategy } from './strategy.js';

/**
 * Opens after `failureThreshold` failures in a row; any success starts the count again.
 * This is what go-plugins documents for `failureThreshold` (its code counted all failures ever,
 * so a plugin failing 1 call in 100 eventually opened).
 */
export class ConsecutiveStrategy implements BreakerStrategy {
  readonly timed = false;
  private count = 0;

  /** @param failureThreshold failures in a row that open the breaker (at least 1). */
  constructor(public failureThreshold: number) {}

  success(): void {
    this.count = 0;
  }

  failure(): boolean {
    this.count++;
    return this.count >= this.failureThreshold;
  }

  reset(): void {
    this.count = 0;
  }
}
