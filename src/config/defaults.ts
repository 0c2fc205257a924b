import type {
  PolicyConfig,
  PluginConfig,
  ReadinessConfig,
  RetryBudgetConfig,
  DiscoveryConfig,
} from './types.js';

/**
 * Built-in policy defaults, used wherever neither the plugin nor `defaults` says otherwise.
 * They follow go-plugins' documented defaults where it has one.
 */
export const DEFAULT_POLICY: PolicyConfig = {
  retry: {
    maxRetries: 3,
    initialInterval: 100,
    maxInterval: 5_000,
    multiplier: 2,
    randomJitter: true,
  },
  circuitBreaker: {
    enabled: true,
    mode: 'consecutive',
    failureThreshold: 5,
    recoveryTimeout: 30_000,
    recoveryMultiplier: 2,
    maxRecoveryTimeout: 300_000,
    minRequestThreshold: 3,
    successThreshold: 2,
    errorThresholdPercentage: 50,
    windowMs: 10_000,
  },
  healthCheck: { enabled: true, interval: 30_000, timeout: 5_000, failureLimit: 3 },
  connection: {
    maxConnections: 10,
    maxPending: 256,
    maxIdleConnections: 5,
    idleTimeout: 30_000,
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    keepAlive: true,
    disableCompression: false,
    maxResponseBytes: 8 * 1024 * 1024,
  },
  rateLimit: {
    enabled: false,
    requestsPerSecond: 100,
    burstSize: 200,
    maxWait: 0,
    timeWindow: 1_000,
    scope: 'local',
  },
  startup: { maxAttempts: 5, initialInterval: 1_000, maxInterval: 30_000, timeout: 10_000 },
};

/**
 * A complete {@link PluginConfig} from a few fields, every other field at its default.
 * Meant for code and tests that build configs by hand; files go through `parseConfig()`.
 */
export function pluginConfig(
  fields: Pick<PluginConfig, 'name' | 'transport'> & Partial<PluginConfig>,
): PluginConfig {
  return {
    enabled: true,
    idempotent: false,
    priority: 0,
    weight: 1,
    labels: {},
    annotations: {},
    options: {},
    auth: { method: 'none' },
    args: [],
    env: [],
    ...structuredClone(DEFAULT_POLICY),
    ...fields,
  };
}

/** Retries allowed across all calls: 20% of calls, and at least 10 per second. */
export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = { ratio: 0.2, minPerSecond: 10 };

/** Plugins started at once during `load()`. */
export const DEFAULT_STARTUP_CONCURRENCY = 32;

/** Ready once every initial plugin has made its startup attempts; no plugin is required. */
export const DEFAULT_READINESS: ReadinessConfig = { policy: 'attempted', required: [] };

/** Where the metrics server listens unless `metricsHost` says otherwise: this host only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** What `discovery` is when the config does not have one: off. */
export const DEFAULT_DISCOVERY: DiscoveryConfig = {
  enabled: false,
  directories: [],
  patterns: ['*'],
  watchMode: false,
  checksums: {},
  requireChecksums: false,
  debounceMs: 200,
  poll: 2_000,
};
