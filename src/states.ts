/**
 * The states a plugin, its breaker and its health go through, as events, snapshots and reports
 * name them. A leaf module: it imports nothing, so that every layer can name a state without
 * importing the layer that drives it.
 */

/**
 * Lifecycle of a plugin inside the manager. Health (healthy, degraded, …) is tracked apart, in
 * the plugin's `health`: a ready plugin can be unhealthy and still be tried.
 */
export type PluginState = 'pending' | 'starting' | 'ready' | 'failed' | 'draining' | 'closed';

/** Breaker states as reported in events and snapshots. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Health as seen by a health check. */
export type HealthState = 'unknown' | 'healthy' | 'degraded' | 'unhealthy' | 'offline';
