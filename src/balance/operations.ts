import type { SharedOperation } from './remote.js';

/** Default number of recent latencies kept per operation. */
export const DEFAULT_WINDOW = 5;
/** Default number of operations remembered per group. */
export const DEFAULT_MAX_OPERATIONS = 1_000;

/** The last `size` latencies of one operation, in a ring buffer with a running sum. */
class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  count = 0;
  sum = 0;

  constructor(size: number) {
    this.samples = new Float64Array(size);
  }

  add(latencyMs: number): void {
    const samples = this.samples;
    if (this.count === samples.length) this.sum -= samples[this.next]!;
    else this.count++;
    samples[this.next] = latencyMs;
    this.sum += latencyMs;
    if (++this.next === samples.length) {
      this.next = 0;
      // Once per lap, recompute the sum so that rounding errors cannot build up over time.
      let sum = 0;
      for (let i = 0; i < this.count; i++) sum += samples[i]!;
      this.sum = sum;
    }
  }
}

/**
 * How long each operation (`ExecuteOptions.operation`) takes: the mean of its last `window`
 * successful latencies, across the group's members. `adaptive` classifies operations with it;
 * `adaptive` and `p2c` weigh the calls in flight on a member with it, so that a member running
 * one long call counts as busier than one running two quick ones.
 *
 * Operation names are caller-chosen strings: at most `maxOperations` are remembered, the oldest
 * is forgotten past that.
 */
export class OperationStats {
  private readonly windows = new Map<string, LatencyWindow>();
  /** Cluster mode: the other replicas' statistics, merged into {@link OperationStats.mean}. */
  shared: ReadonlyMap<string, SharedOperation> | undefined = undefined;

  constructor(
    private readonly window = DEFAULT_WINDOW,
    private readonly maxOperations = DEFAULT_MAX_OPERATIONS,
  ) {}

  /** Mean of the recent latencies of `operation`, ms; undefined when it has none yet. */
  mean(operation: string | undefined): number | undefined {
    if (operation === undefined) return undefined;
    const window = this.windows.get(operation);
    const shared = this.shared?.get(operation);
    if (shared === undefined) {
      return window === undefined || window.count === 0 ? undefined : window.sum / window.count;
    }
    // Cluster mode: this replica's recent latencies and the others' weigh by their counts.
    const count = shared.count + (window === undefined ? 0 : window.count);
    return count === 0 ? undefined : (shared.sum + (window === undefined ? 0 : window.sum)) / count;
  }

  /**
   * This replica's own statistics, `[operation, sum, count]`, the most recently added
   * operations first, at most `limit` (what cluster mode publishes).
   */
  entries(limit: number): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    for (const [operation, window] of this.windows) {
      if (window.count > 0) out.push([operation, window.sum, window.count]);
    }
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  /** Records one successful latency of `operation`. */
  observe(operation: string, latencyMs: number): void {
    let window = this.windows.get(operation);
    if (window === undefined) {
      if (this.windows.size >= this.maxOperations) {
        this.windows.delete(this.windows.keys().next().value!);
      }
      window = new LatencyWindow(this.window);
      this.windows.set(operation, window);
    }
    window.add(latencyMs > 0 ? latencyMs : 0);
  }
}
