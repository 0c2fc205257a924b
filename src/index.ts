/**
 * plugwire: call out-of-process plugins through one typed, resilient API.
 *
 * Host side. Plugin authors use `plugwire/sdk`.
 * @packageDocumentation
 */
export { Manager } from './manager.js';
export type {
  ManagerOptions,
  RegisterOptions,
  StartResult,
  LoadResult,
  MetricsSnapshot,
  ShutdownOptions,
} from './options.js';
export { definePlugin } from './memory.js';
export type { InProcessPluginSpec } from './memory.js';
export {
  PluginError,
  ConfigError,
  ErrorCode,
  isPluginError,
  isConfigError,
  isApplicationError,
  applicationError,
  redactSecrets,
  withPhase,
} from './errors.js';
export type { ConfigIssue, FailurePhase, PluginErrorOptions } from './errors.js';
export { decideRetry } from './resilience/retryPolicy.js';
export type { RetryFacts, RetryRule, RetryVerdict } from './resilience/retryPolicy.js';
export { jsonCodec } from './codec.js';
export { parseConfig, parsePluginConfig, loadConfigFile } from './builtinConfig.js';
export { parseDuration, parseSize } from './config/index.js';
export type { ParseOptions } from './config/index.js';
export { pluginConfig, DEFAULT_POLICY } from './config/defaults.js';
export type * from './config/types.js';
export type * from './types.js';
export type { ManagerEvents, ManagerListener, CircuitEvent, CircuitState } from './events.js';
export type { PluginSnapshot, PluginState } from './pipeline/PluginSlot.js';
export type {
  CounterSnapshot,
  LatencySummary,
  LatencyBuckets,
  MetricsOptions,
} from './observe/stats.js';
export { collectPrometheus, DEFAULT_DURATION_BUCKETS } from './observe/prometheus.js';
export type {
  MetricsSource,
  PrometheusCollector,
  PrometheusOptions,
} from './observe/prometheus.js';
export { createOtelTracer } from './observe/tracing.js';
export type { Outcome } from './observe/outcome.js';
export type { AttemptSpan, CallSpan, CallTracer, OtelTracerOptions } from './observe/tracing.js';
export { createStatusHandler, serveAdmin } from './observe/status/index.js';
export type {
  GroupStatus,
  PluginStatus,
  ServeAdminOptions,
  StatusActions,
  StatusDocument,
  StatusHandler,
  StatusOptions,
  StatusSource,
} from './observe/status/index.js';
export { executeChannel, attemptChannel } from './observe/diagnostics.js';
export type { ExecuteMessage, AttemptMessage } from './observe/diagnostics.js';
export type {
  OtelPropagatorLike,
  OtelTracerLike,
  PrometheusRegistryLike,
} from './observe/peerTypes.js';
export type { HealthAnswer } from './health/answer.js';
export { createProbeHandler } from './health/probe.js';
export type { AdminAddress, AdminRoute, AdminServer } from './observe/adminServer.js';
export type { ProbeHandler, ProbeOptions, ProbeSource } from './health/probe.js';
export type {
  ReadinessReport,
  ReadinessCode,
  PluginReadiness,
  PluginSetReadiness,
} from './health/readiness.js';
export { diffConfigs } from './reload/index.js';
export type {
  ConfigDiff,
  PluginUpdate,
  GroupsDiff,
  GroupUpdate,
  UpdateMode,
} from './reload/index.js';
export type { ReloadOptions, ReloadResult, ReloadStep, ReloadStrategy } from './reload/apply.js';
export { DEFAULT_DISCOVERY, type DiscoveryStats } from './discovery/index.js';
export { PeakEwma } from './balance/index.js';
export type { PeakEwmaOptions } from './balance/index.js';
export type { Clock } from './resilience/clock.js';
export type {
  Balancer,
  BalancerDeps,
  BalancerFactory,
  Candidate,
  LatencyTracker,
  PickRequest,
  RemoteLoad,
} from './balance/index.js';
export type { ClusterStatus, RedisState } from './cluster/status.js';
export type {
  ClusterConfig,
  ClusterDnsConfig,
  ClusterMembersConfig,
  ClusterRedisConfig,
} from './config/types.js';
export type { Limiter, RateLimiterSettings } from './resilience/RateLimiter.js';
