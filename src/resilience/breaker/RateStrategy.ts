import type { BreakerStrategy } from './strategy.js';

/** Settings of a {@link RateStrategy}; the same names as in `CircuitBreakerConfig`. */
export interface RateStrategyOptions {
  /** Opens when failures are at least this percentage of the calls in the window (0–100). */
  errorThresholdPercentage: number;
  /** …and the window holds at least this many calls, so 1 failure out of 1 does not open. */
  minRequestThreshold: number;
  /** Length of the rolling window, ms. */
  windowMs: number;
}

/** Buckets in the ring: the window moves forward in steps of windowMs / BUCKETS. */
const BUCKETS = 10;

/**
 * Opens when the failure rate over a rolling window reaches a threshold.
 *
 * The window is a ring of {@link BUCKETS} fixed time buckets with running totals. Buckets are
 * expired lazily: when a record lands in a newer bucket, the buckets skipped since the last
 * record are subtracted and zeroed (at most BUCKETS of them, so O(1) per record). No timer, no
 * allocation. The window therefore covers between 9/10 and all of `windowMs`.
 */
export class RateStrategy implements BreakerStrategy {
  readonly timed = true;
  private readonly successes = new Float64Array(BUCKETS);
  private readonly failures = new Float64Array(BUCKETS);
  private totalSuccesses = 0;
  private totalFailures = 0;
  /** Bucket number (`floor(now / bucketMs)`) of the newest bucket in the ring. */
  private head = Number.NEGATIVE_INFINITY;
  private threshold = 0;
  private minRequests = 0;
  private bucketMs = 1;
  private windowMs = 0;

  constructor(options: RateStrategyOptions) {
    this.configure(options);
  }

  /**
   * Applies new settings, keeping the counts. A new `windowMs` changes the bucket width, so the
   * old counts cannot be mapped onto it: the window then starts empty.
   */
  configure(options: RateStrategyOptions): void {
    this.threshold = options.errorThresholdPercentage;
    this.minRequests = options.minRequestThreshold;
    if (options.windowMs !== this.windowMs) {
      this.windowMs = options.windowMs;
      this.bucketMs = Math.max(1, options.windowMs / BUCKETS);
      this.reset();
    }
  }

  /** Calls and failures currently inside the window, as seen at `now`. */
  counts(now: number): { total: number; failures: number } {
    this.advance(now);
    return { total: this.totalSuccesses + this.totalFailures, failures: this.totalFailures };
  }

  success(now: number): void {
    const slot = this.advance(now);
    this.successes[slot]!++;
    this.totalSuccesses++;
  }

  failure(now: number): boolean {
    const slot = this.advance(now);
    this.failures[slot]!++;
    this.totalFailures++;
    const total = this.totalSuccesses + this.totalFailures;
    return total >= this.minRequests && this.totalFailures * 100 >= this.threshold * total;
  }

  reset(): void {
    this.successes.fill(0);
    this.failures.fill(0);
    this.totalSuccesses = 0;
    this.totalFailures = 0;
    this.head = Number.NEGATIVE_INFINITY;
  }

  /** Moves the ring forward to `now`, expiring what fell out; returns the slot for `now`. */
  private advance(now: number): number {
    const bucket = Math.floor(now / this.bucketMs);
    if (bucket > this.head) {
      if (bucket - this.head >= BUCKETS) {
        // Everything recorded is older than the window (or nothing was recorded yet).
        this.successes.fill(0);
        this.failures.fill(0);
        this.totalSuccesses = 0;
        this.totalFailures = 0;
      } else {
        for (let b = this.head + 1; b <= bucket; b++) {
          const slot = slotOf(b);
          this.totalSuccesses -= this.successes[slot]!;
          this.totalFailures -= this.failures[slot]!;
          this.successes[slot] = 0;
          this.failures[slot] = 0;
        }
      }
      this.head = bucket;
    }
    // A clock reading older than the head (possible only with an injected clock) counts in the
    // newest bucket rather than in one that already holds newer data.
    return slotOf(this.head);
  }
}

function slotOf(bucket: number): number {
  return ((bucket % BUCKETS) + BUCKETS) % BUCKETS;
}
