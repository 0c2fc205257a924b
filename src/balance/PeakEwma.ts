import { monotonicClock, type Clock } from '../resilience/clock.js';
import type { LatencyTracker } from './types.js';

/** Options of a {@link PeakEwma} tracker. */
export interface PeakEwmaOptions {
  /**
   * Time constant of the decay, ms (default 10 s, as Finagle and linkerd). After `decayMs`
   * without an observation the estimate has fallen to 37% of its value.
   */
  decayMs?: number | undefined;
  /** Time source in ms; defaults to `performance.now()`. */
  now?: Clock | undefined;
  /**
   * Whether a sample above the estimate replaces it at once (default true). With false, every
   * sample is blended in by time alike (the first one is taken as is): a plain time-weighted
   * EWMA, for signals whose spikes are noise rather than news, such as the per-member speed
   * ratios of `p2c` and `adaptive`, where a quick call that waited behind a long one looks 40×
   * slow once.
   */
  peak?: boolean | undefined;
}

/** Default decay time constant, ms. */
export const DEFAULT_DECAY_MS = 10_000;

/**
 * Peak-EWMA latency estimate (Finagle's `PeakEwma`, linkerd's `PeakEwma`).
 *
 * - Peak: a sample above the estimate replaces it at once, so a slowdown is seen on the first
 *   slow reply rather than after many.
 * - EWMA: a sample below it is blended in with weight `1 - exp(-Δt / decayMs)`, so the
 *   estimate comes down over time rather than per reply (a burst of fast replies counts as
 *   much as one).
 * - Decay: between samples the estimate decays toward 0 with the same time constant. This is
 *   what keeps latency-aware balancers exploring: an instance that was slow once, and then got
 *   no traffic, sees its estimate fall until it is tried again and measured afresh. (go-plugins'
 *   least-latency never explored: one slow period excluded an instance for good.)
 *
 * No timer: the decay is computed from timestamps when the estimate is read or updated.
 */
export class PeakEwma implements LatencyTracker {
  private cost = 0;
  private stamp: number;
  private readonly decayMs: number;
  private readonly now: Clock;
  private readonly peak: boolean;

  constructor(options: PeakEwmaOptions = {}) {
    this.now = options.now ?? monotonicClock;
    this.decayMs = options.decayMs ?? DEFAULT_DECAY_MS;
    this.peak = options.peak ?? true;
    this.stamp = this.now();
  }

  estimate(now?: number): number {
    const cost = this.cost;
    if (cost === 0) return 0;
    const elapsed = (now ?? this.now()) - this.stamp;
    return elapsed > 0 ? cost * Math.exp(-elapsed / this.decayMs) : cost;
  }

  /** Forgets the history: the estimate becomes `latencyMs`, as if it were the first sample. */
  restart(latencyMs: number): void {
    this.cost = latencyMs > 0 ? latencyMs : 0;
    this.stamp = this.now();
  }

  observe(latencyMs: number): void {
    const now = this.now();
    const elapsed = now - this.stamp;
    const w = elapsed > 0 ? Math.exp(-elapsed / this.decayMs) : 1;
    const current = this.cost * w;
    const sample = latencyMs > 0 ? latencyMs : 0;
    // Finagle: cost·w + rtt·(1 − w), where cost·w is the estimate decayed to now. Without peaks,
    // the first sample is taken as is: blending it into 0 would make a new member look fast.
    if (this.peak ? sample > current : this.cost === 0) this.cost = sample;
    else this.cost = current + sample * (1 - w);
    this.stamp = now;
  }
}
