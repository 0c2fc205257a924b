import type { ServerTracingOptions } from '../observe/sdkTracing.js';
import type { Codec, HealthStatus, Logger, PluginInfo } from '../types.js';

/** What a plugin handler receives with each request. */
export interface HandlerContext {
  /**
   * Aborts when the host's deadline passes or the host gives up on the request: its caller
   * aborted it or its deadline passed (HTTP: the connection closes; gRPC: the call is cancelled;
   * Unix and exec: a `cancel` message names it), or the connection goes away. The plugin's own
   * deadline watch is shared by all requests (no timer per request) and may fire up to 1/64 of
   * the timeout late (the host's cancel comes at the exact deadline). Created when first read.
   */
  readonly signal: AbortSignal;
  /** Absolute deadline (epoch ms) sent by the host, if any. */
  readonly deadline: number | undefined;
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The one function a plugin author writes. Return the response, or `throw applicationError(msg)`
 * to answer "no". Any other throw is reported to the host as a failure (retryable when the
 * error is marked `retryable: true`).
 */
export type Handler<Req = unknown, Resp = unknown> = (
  request: Req,
  ctx: HandlerContext,
) => Resp | Promise<Resp>;

/** Options shared by every `serve*` function. */
export interface ServeOptions {
  /** What `info` returns. Defaults to `{ name: 'plugin' }`. */
  info?: PluginInfo | undefined;
  /**
   * Health check. Return a status, or `true`/`false`. Default: healthy while serving.
   * It is given a signal that aborts when the host's health-check timeout passes.
   */
  health?:
    ((signal: AbortSignal) => HealthStatus | boolean | Promise<HealthStatus | boolean>) | undefined;
  codec?: Codec | undefined;
  logger?: Logger | undefined;
  /**
   * Continue the host's trace: each request runs in an OpenTelemetry SERVER span whose parent
   * comes from the W3C headers the host sends. `true` uses the global tracer provider. Needs
   * `@opentelemetry/api`. Off by default.
   */
  tracing?: boolean | ServerTracingOptions | undefined;
}

/** A running plugin server. */
export interface ServedPlugin {
  /** What to put in the host's config `endpoint` (URL, `host:port`, socket path…). */
  readonly endpoint: string;
  /**
   * Stops accepting work, lets in-flight requests finish up to `timeoutMs` (default 5 s), then
   * aborts them and releases everything.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}
