import type { DiscoveryStats } from '../discovery/Discovery.js';
import type { CounterSnapshot } from './stats.js';

/** `manager.metrics()`: call-level counters for the whole manager, attempt-level per plugin. */
export interface MetricsSnapshot {
  /** Every call, whatever its target, counted once (however many attempts it took). */
  global: CounterSnapshot;
  /** Each plugin's attempts, by plugin name. */
  plugins: Record<string, CounterSnapshot>;
  /** Plugin discovery's counters, when the config has discovery on. */
  discovery?: DiscoveryStats | undefined;
}
