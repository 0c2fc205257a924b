/** The cluster section's defaults, in a leaf module: the SDK's announce reads them without zod. */
export const DEFAULT_CLUSTER = {
  namespace: 'plugwire',
  heartbeatInterval: 1_000,
  replicaTtl: 5_000,
  commandTimeout: 500,
  connectTimeout: 2_000,
  reconnect: { initialInterval: 100, maxInterval: 5_000 },
  leaseInterval: 100,
  viewInterval: 250,
  viewTtl: 3_000,
} as const;
