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

/** Options of {@link serveGrpc}. */
export interface ServeGrpcOptions extends ServeOptions {
  /** Register in a group of the hosts' cluster registry (docs/cluster.md). Needs `ioredis`. */
  announce?: AnnounceOptions | undefined;
  /** Interface to listen on. Default `127.0.0.1` (local only); `0.0.0.0` or `::` for all. */
  host?: string | undefined;
  /** Port to listen on; `0` (default) picks a free one, see {@link ServedPlugin.endpoint}. */
  port?: number | undefined;
  /** Listen on this Unix socket instead of TCP (`host` and `port` are then ignored). */
  socketPath?: string | undefined;
  /**
   * Serve TLS. `cert`, `key` and `ca` are PEM contents (not paths). `requestClientCert: true`
   * requires every client to present a certificate signed by `ca` (mTLS).
   */
  tls?:
    | {
        cert: string | Buffer;
        key: string | Buffer;
        ca?: string | Buffer | undefined;
        requestClientCert?: boolean | undefined;
      }
    | undefined;
  /**
   * Largest request message accepted, bytes; larger ones get RESOURCE_EXHAUSTED. Default 16 MiB
   * (gRPC's own default, 4 MiB, is easy to hit with codec payloads).
   */
  maxRequestBytes?: number | undefined;
}

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions extends ServeOptions {
  /** Interface to listen on. Default `127.0.0.1` (local only); `0.0.0.0` or `::` for all. */
  host?: string | undefined;
  /** Port to listen on; `0` (default) picks a free one, see {@link ServedPlugin.endpoint}. */
  port?: number | undefined;
  /** Path of the execute route; health and info live under it. Default `/`. */
  path?: string | undefined;
  /** Serve HTTPS (TLS 1.2+). `requestCert: true` requires a client certificate signed by `ca` (mTLS). */
  tls?:
    | {
        cert: string | Buffer;
        key: string | Buffer;
        ca?: string | Buffer | undefined;
        requestCert?: boolean | undefined;
      }
    | undefined;
  /** Largest request body accepted, bytes; larger requests get 413. Default 16 MiB. */
  maxRequestBytes?: number | undefined;
  /** Register in a group of the hosts' cluster registry (docs/cluster.md). Needs `ioredis`. */
  announce?: AnnounceOptions | undefined;
}

/** Options of {@link serveUnix}. */
export interface ServeUnixOptions extends ServeOptions {
  /** Filesystem path of the socket. A stale socket file left by a dead server is removed. */
  path: string;
  /**
   * Permission bits of the socket file, set right after it is created. Whoever may write to the
   * socket may call the plugin, so the default is `0o600`: the server's own user only. Use
   * `0o660` to admit the socket's group (run the host in that group), never more than needed.
   * The socket is created under the process umask first (commonly 0755, which already refuses
   * other users' connections); keep it in a directory only its users can enter for a guarantee
   * without that instant.
   */
  mode?: number;
}

/**
 * `announce` option of `serveHttp` and `serveGrpc`: the instance registers itself in a group of
 * the hosts' cluster registry (Redis) and keeps a heartbeat there while it serves. Hosts whose
 * `cluster.members` lists the group route to it; when the heartbeat stops (crash) it expires
 * after `ttl` and hosts drain it; `close()` withdraws it at once. Needs `ioredis`.
 */
export interface AnnounceOptions {
  /** The hosts' Redis: `{ url }` (`redis://`, `rediss://`, `unix://`) or `{ options }` (ioredis). */
  redis: { url?: string | undefined; options?: Record<string, unknown> | undefined };
  /** The hosts' `cluster.namespace`. Default `plugwire`. */
  namespace?: string | undefined;
  /** The group this instance serves. */
  group: string;
  /** Identity in the group: a restart with the same id replaces the entry. Default: the endpoint. */
  id?: string | undefined;
  /** The endpoint as hosts reach it (behind NAT, in a pod…). Default: the served endpoint. */
  endpoint?: string | undefined;
  /** Balancing weight. Default 1. */
  weight?: number | undefined;
  labels?: Record<string, string> | undefined;
  /** Heartbeat interval, ms. Default 1000. */
  interval?: number | undefined;
  /** How long an entry lives without a heartbeat, ms. Default 5000 (must exceed `interval`). */
  ttl?: number | undefined;
}
