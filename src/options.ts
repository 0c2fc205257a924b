import type { Codec, Logger } from './types.js';
import type { CallTracer } from './observe/tracing.js';
import type { RetryRule } from './resilience/retryPolicy.js';
import type { StartResult } from './health/startPool.js';

export type { StartResult } from './health/startPool.js';
export type { MetricsSnapshot } from './observe/metricsSnapshot.js';

/** Options of the `Manager` constructor. */
export interface ManagerOptions {
  /**
   * Structured logger; pino and console work as they are. Silent by default. A config's
   * `logLevel` (go-plugins' `log_level`) drops the messages below it before they reach it.
   */
  logger?: Logger | undefined;
  /** Encodes request and response bodies. JSON by default. */
  codec?: Codec | undefined;
  /**
   * Register the built-in transports (http, https, grpc, grpc-tls, unix, exec). Default true;
   * turn off to allow only factories you register yourself.
   */
  builtinTransports?: boolean | undefined;
  /**
   * Traces every call: a span per call and per attempt, with the trace context sent to the
   * plugin. See `createOtelTracer()`. Off by default (calls then pay nothing for tracing).
   */
  tracer?: CallTracer | undefined;
  /** A custom retry rule for every call (docs/resilience.md); per call: `ExecuteOptions.retryRule`. */
  retryRule?: RetryRule | undefined;
}

/** Policy sections and placement accepted by `manager.register()`. */
export interface RegisterOptions {
  /** The group the plugin joins (its balancer routes calls to the group's name). */
  group?: string | undefined;
  /** Share of the group's traffic for weighted strategies. Default 1. */
  weight?: number | undefined;
  /** Tier for the `priority` strategy: higher first. Default 0. */
  priority?: number | undefined;
  /** Whether calls may reach it. Default true. */
  enabled?: boolean | undefined;
  /** Free-form labels (shown in snapshots and the status page). */
  labels?: Record<string, string> | undefined;
  /** Calls may run twice without harm (default false); see docs/resilience.md. */
  idempotent?: boolean | undefined;
  /** Partial policy sections; durations as ms numbers or Go strings ("250ms"). */
  retry?: Record<string, unknown> | undefined;
  /** Partial circuit-breaker section. */
  circuitBreaker?: Record<string, unknown> | undefined;
  /** Partial rate-limit section. */
  rateLimit?: Record<string, unknown> | undefined;
  /** Partial health-check section. */
  healthCheck?: Record<string, unknown> | undefined;
  /** Partial startup section (attempts, backoff, timeout). */
  startup?: Record<string, unknown> | undefined;
  /**
   * `requestTimeout` caps each call. `maxPending` bounds the calls in flight on the plugin
   * (`maxConnections + maxPending`) only when given here: a plugin in code has no queue.
   */
  connection?: Record<string, unknown> | undefined;
}

/** What `load()` did. */
export interface LoadResult {
  /** How each plugin's startup ended, in config order. */
  plugins: StartResult[];
}

/** Options of `manager.shutdown()`. */
export interface ShutdownOptions {
  /** How long in-flight calls may run before they are aborted. Default 10 000 ms. */
  timeoutMs?: number | undefined;
}
