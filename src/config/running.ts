import { DEFAULT_DISCOVERY } from './discovery-schema.js';
import {
  DEFAULT_METRICS_HOST,
  DEFAULT_POLICY,
  DEFAULT_READINESS,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
} from './defaults.js';
import type { ManagerConfig, PluginConfig } from './types.js';

/**
 * The manager-wide settings in force: the running configuration but its plugins (those are the
 * slots' configs) and its cluster section (which applies once). One immutable value, replaced
 * whole when load or reload changes a part of it.
 */
export type RunningSettings = Readonly<Omit<ManagerConfig, 'plugins' | 'cluster'>>;

/** The settings of a manager that has loaded nothing yet. */
export const INITIAL_SETTINGS: RunningSettings = Object.freeze({
  metricsPort: 0,
  metricsHost: DEFAULT_METRICS_HOST,
  defaults: DEFAULT_POLICY,
  groups: {},
  readiness: DEFAULT_READINESS,
  retryBudget: DEFAULT_RETRY_BUDGET,
  startupConcurrency: DEFAULT_STARTUP_CONCURRENCY,
  discovery: DEFAULT_DISCOVERY,
});

/** The running configuration, as a reload compares it: `settings` around `plugins`. */
export function runningConfig(settings: RunningSettings, plugins: PluginConfig[]): ManagerConfig {
  return { ...settings, plugins };
}
