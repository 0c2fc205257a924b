/**
 * In-process counters and latency summaries: what `manager.metrics()` and `manager.plugins()`
 * report. Recording is O(1) and allocation-free (a fixed log-scale histogram), so it can stay on
 * the hot path; exporters (Prometheus, OpenTelemetry) read snapshots.
 */

const SUB_BUCKETS = 8; // per power of two: quantiles within ~4.5% of the true value
const MIN_US = 1;
const BUCKETS = 40 * SUB_BUCKETS; // 1 µs .. 2^40 µs (~12 days)

/** Latency summary in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  avg: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Cumulative counts at chosen bounds: what a Prometheus histogram exposes as `le` buckets. */
export interface LatencyBuckets {
  /** Upper bounds in milliseconds, ascending. */
  boundsMs: readonly number[];
  /** `cumulative[i]`: values recorded at or below `boundsMs[i]` (a value near a bound may count under the next one). */
  cumulative: number[];
  /** Every recorded value (the `+Inf` bucket). */
  count: number;
  /** Sum of every recorded value, ms. */
  sumMs: number;
}

/** Options of `manager.metrics()`. */
export interface MetricsOptions {
  /**
   * Also report each latency histogram as cumulative counts at these bounds (ms, ascending), in
   * {@link CounterSnapshot.histogram}. Exporters ask for it; plain snapshots leave it out.
   */
  latencyBucketsMs?: readonly number[] | undefined;
}

/** A log-scale latency histogram with exact count, sum, min and max. */
export class LatencyHistogram {
  private readonly buckets = new Uint32Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(ms: number): void {
    const us = ms * 1000;
    let index = us <= MIN_US ? 0 : Math.ceil(Math.log2(us) * SUB_BUCKETS);
    if (index >= BUCKETS) index = BUCKETS - 1;
    this.buckets[index]!++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** The latency (ms) below which a fraction `q` of recorded values fall. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) {
        const upperMs = 2 ** (i / SUB_BUCKETS) / 1000;
        return Math.min(this.max, Math.max(this.min, upperMs));
      }
    }
    return this.max;
  }

  /**
   * How many recorded values lie at or below each bound (ms, ascending), in one pass over the
   * log-scale buckets. A value counts under a bound only when its whole bucket does, so it is never
   * counted under a bound it exceeds; a value less than one sub-bucket (a factor 2^(1/8), ~9%)
   * below a bound may be counted under the next bound instead.
   */
  cumulativeCounts(boundsMs: readonly number[]): number[] {
    const out = new Array<number>(boundsMs.length);
    let seen = 0;
    let i = 0; // next log bucket to add
    for (let b = 0; b < boundsMs.length; b++) {
      const us = boundsMs[b]! * 1000;
      // The last log bucket whose upper edge, 2^(i/8) µs, is <= the bound (epsilon: float noise).
      // The top bucket also holds everything past the range: it only ever counts under +Inf.
      const last =
        us < MIN_US ? -1 : Math.min(BUCKETS - 2, Math.floor(Math.log2(us) * SUB_BUCKETS + 1e-9));
      for (; i <= last; i++) seen += this.buckets[i]!;
      out[b] = seen;
    }
    return out;
  }

  /** {@link cumulativeCounts} with count and sum: one Prometheus histogram. */
  bucketCounts(boundsMs: readonly number[]): LatencyBuckets {
    return {
      boundsMs,
      cumulative: this.cumulativeCounts(boundsMs),
      count: this.count,
      sumMs: this.sum,
    };
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, min: 0, avg: 0, max: 0, p50: 0, p90: 0, p99: 0 };
    return {
      count: this.count,
      min: this.min,
      avg: this.sum / this.count,
      max: this.max,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
    };
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }
}

/** Counters of one plugin (attempt level) or of the whole manager (call level). */
export interface CounterSnapshot {
  /** Calls or attempts that finished. */
  total: number;
  success: number;
  /** Transport failures, timeouts, breaker and rate-limit rejections. */
  failure: number;
  /** The plugin's own "no" (application errors). */
  applicationError: number;
  timeout: number;
  aborted: number;
  retries: number;
  rateLimited: number;
  circuitRejected: number;
  /** Calls refused because the plugin's queue was full (`connection.maxPending`). */
  queueRejected: number;
  inFlight: number;
  /** Finished calls by error code. */
  byCode: Record<string, number>;
  latency: LatencySummary;
  /** Latency as cumulative bucket counts; only when asked for ({@link MetricsOptions}). */
  histogram?: LatencyBuckets | undefined;
}

/** Mutable counters; one instance per plugin plus one for the manager. */
export class Counters {
  total = 0;
  success = 0;
  failure = 0;
  applicationError = 0;
  timeout = 0;
  aborted = 0;
  retries = 0;
  rateLimited = 0;
  circuitRejected = 0;
  queueRejected = 0;
  inFlight = 0;
  readonly byCode = new Map<string, number>();
  readonly latency = new LatencyHistogram();

  countCode(code: string): void {
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
  }

  /** A plain copy; with `latencyBucketsMs`, also the latency as cumulative bucket counts. */
  snapshot(latencyBucketsMs?: readonly number[]): CounterSnapshot {
    const snapshot: CounterSnapshot = {
      total: this.total,
      success: this.success,
      failure: this.failure,
      applicationError: this.applicationError,
      timeout: this.timeout,
      aborted: this.aborted,
      retries: this.retries,
      rateLimited: this.rateLimited,
      circuitRejected: this.circuitRejected,
      queueRejected: this.queueRejected,
      inFlight: this.inFlight,
      byCode: Object.fromEntries(this.byCode),
      latency: this.latency.summary(),
    };
    if (latencyBucketsMs !== undefined) {
      snapshot.histogram = this.latency.bucketCounts(latencyBucketsMs);
    }
    return snapshot;
  }
}
