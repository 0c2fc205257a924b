import { ErrorCode } from '../../errors.js';
import type { CounterSnapshot } from '../stats.js';

/**
 * Latency bounds (ms) at which the window keeps cumulative counts: 2^(1/4) apart (~19%), from
 * 50 µs to ~2 min. A windowed quantile is interpolated inside one such step.
 */
export const WINDOW_BOUNDS_MS: readonly number[] = Array.from(
  { length: 85 },
  (_, i) => 0.05 * 2 ** (i / 4),
);

/** What the window keeps of one plugin at one instant: cumulative counters only. */
export interface CounterSample {
  total: number;
  failure: number;
  /** Finished attempts by error code. */
  byCode: Readonly<Record<string, number>>;
  /** Calls refused before an attempt: open breaker, rate limit. */
  circuitRejected: number;
  rateLimited: number;
  /** Cumulative counts at {@link WINDOW_BOUNDS_MS}, and the total count last. */
  buckets: readonly number[];
}

/** Rates over the window; `undefined` fields until two samples span some time. */
export interface WindowRates {
  /** Finished attempts per second. */
  callsPerSecond: number | undefined;
  /** Failed / finished attempts (0..1); the plugin's own "no" is not an error. */
  errorRate: number | undefined;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** Failed attempts by error code, most frequent first. */
  errorCodes: Record<string, number>;
}

interface Sample {
  at: number;
  counters: Map<string, CounterSample>;
}

/** A sample from a metrics snapshot taken with `latencyBucketsMs: WINDOW_BOUNDS_MS`. */
export function toSample(snapshot: CounterSnapshot): CounterSample {
  const histogram = snapshot.histogram;
  return {
    total: snapshot.total,
    failure: snapshot.failure,
    byCode: snapshot.byCode,
    circuitRejected: snapshot.circuitRejected,
    rateLimited: snapshot.rateLimited,
    buckets: histogram === undefined ? [] : [...histogram.cumulative, histogram.count],
  };
}

/**
 * Rolling one-minute rates from cumulative counters diffed at read time: no per-call work.
 *
 * Each read adds a sample (at most one per `minGapMs`) and keeps, besides the samples of the
 * last `windowMs`, the newest one older than that: the baseline the rates are diffed against.
 * So the window covers the last minute once someone has been reading for a minute, and less
 * before; {@link seconds} says how much.
 */
export class RollingWindow {
  private readonly samples: Sample[] = [];

  constructor(
    private readonly windowMs = 60_000,
    private readonly minGapMs = 1_000,
  ) {}

  /** Records `counters` taken at `now` (ms); returns false when too close to the last sample. */
  add(now: number, counters: Map<string, CounterSample>): boolean {
    const last = this.samples.at(-1);
    if (last !== undefined && now - last.at < this.minGapMs) return false;
    this.samples.push({ at: now, counters });
    // Drop samples while the next one is old enough to be the baseline.
    while (this.samples.length > 2 && now - this.samples[1]!.at >= this.windowMs) {
      this.samples.shift();
    }
    return true;
  }

  /** Seconds between the baseline and the newest sample (0 with fewer than two). */
  get seconds(): number {
    if (this.samples.length < 2) return 0;
    return (this.samples.at(-1)!.at - this.samples[0]!.at) / 1000;
  }

  /** Rates of the named series (a plugin), or of several summed (a group). */
  rates(names: readonly string[]): WindowRates {
    const seconds = this.seconds;
    if (seconds <= 0) return NO_RATES;
    const first = this.samples[0]!.counters;
    const last = this.samples.at(-1)!.counters;
    let total = 0;
    let failure = 0;
    const buckets = new Array<number>(WINDOW_BOUNDS_MS.length + 1).fill(0);
    const codes = new Map<string, number>();
    for (const name of names) {
      const now = last.get(name);
      if (now === undefined) continue;
      // A plugin added (or recreated) inside the window counts from zero.
      const then = first.get(name);
      const base = then !== undefined && then.total <= now.total ? then : undefined;
      total += now.total - (base?.total ?? 0);
      failure += now.failure - (base?.failure ?? 0);
      for (let i = 0; i < buckets.length; i++) {
        buckets[i]! += (now.buckets[i] ?? 0) - (base?.buckets[i] ?? 0);
      }
      const counts: Array<[string, number]> = [
        ...Object.entries(now.byCode).map(([code, n]): [string, number] => [
          code,
          n - (base?.byCode[code] ?? 0),
        ]),
        // Refusals never reach the plugin, so they are not in its byCode: counted here.
        [ErrorCode.CircuitBreakerOpen, now.circuitRejected - (base?.circuitRejected ?? 0)],
        [ErrorCode.RateLimitExceeded, now.rateLimited - (base?.rateLimited ?? 0)],
      ];
      for (const [code, added] of counts) {
        if (added > 0) codes.set(code, (codes.get(code) ?? 0) + added);
      }
    }
    return {
      callsPerSecond: total / seconds,
      errorRate: total === 0 ? undefined : failure / total,
      p50Ms: quantile(buckets, 0.5),
      p99Ms: quantile(buckets, 0.99),
      errorCodes: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])),
    };
  }
}

const NO_RATES: WindowRates = {
  callsPerSecond: undefined,
  errorRate: undefined,
  p50Ms: undefined,
  p99Ms: undefined,
  errorCodes: {},
};

/**
 * The latency below which a fraction `q` of the window's values fall, from cumulative counts at
 * {@link WINDOW_BOUNDS_MS} (the last entry: every value), linearly interpolated in its step.
 */
export function quantile(cumulative: readonly number[], q: number): number | undefined {
  const count = cumulative.at(-1) ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  let below = 0;
  for (let i = 0; i < WINDOW_BOUNDS_MS.length; i++) {
    const atBound = cumulative[i]!;
    if (atBound >= rank) {
      const lower = i === 0 ? 0 : WINDOW_BOUNDS_MS[i - 1]!;
      const upper = WINDOW_BOUNDS_MS[i]!;
      const inStep = atBound - below;
      return inStep <= 0 ? upper : lower + ((rank - below) / inStep) * (upper - lower);
    }
    below = atBound;
  }
  return WINDOW_BOUNDS_MS.at(-1); // past the last bound: reported as the last bound
}
