import type { RetryRule } from './resilience/retryPolicy.js';
import type { PluginConfig } from './config/types.js';
import type { ErrorCode } from './errors.js';
import type { HealthState } from './states.js';

export type { HealthState } from './states.js';

/** The result of one health check, or the summary kept by the manager. */
export interface HealthStatus {
  status: HealthState;
  /** Why, in a few words (never a secret). */
  message?: string | undefined;
  /** When the check finished (epoch ms); 0 when never checked. */
  lastCheck: number;
  /** How long the check took. */
  responseTimeMs: number;
  metadata?: Record<string, string> | undefined;
}

/** What a plugin says about itself. */
export interface PluginInfo {
  name: string;
  version?: string | undefined;
  description?: string | undefined;
  /** Who maintains the plugin (go-plugins' `PluginInfo.Author`). */
  author?: string | undefined;
  capabilities?: string[] | undefined;
  metadata?: Record<string, string> | undefined;
}

/**
 * The part of an AbortSignal most code needs: whether it fired, why, and a way to be told.
 * An `AbortSignal` is one; {@link ExecutionContext.cancellation} is a cheaper one. undici's
 * `signal` option accepts it as is.
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * What a plugin receives with each attempt of a call.
 *
 * The `signal` (and the cheaper `cancellation`) fires when the call's deadline passes, the caller
 * aborts, or the manager shuts down; a plugin should stop its work then. `deadline` is the absolute time (epoch ms) the whole call
 * must finish by, so that remote plugins can budget their own work.
 */
export interface ExecutionContext {
  /** A real AbortSignal for APIs that need one (`fetch`, streams); created on first read. */
  readonly signal: AbortSignal;
  /**
   * Fires exactly when `signal` would, without building an AbortSignal (which costs a couple of
   * microseconds per call in Node 20). Transports and hot code should prefer it.
   */
  readonly cancellation: Cancellation;
  /** Absolute deadline, epoch milliseconds (`Date.now()` scale). */
  readonly deadline: number;
  readonly requestId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Logical operation name, when the caller gave one (used by adaptive balancing and metrics). */
  readonly operation: string | undefined;
  /** Headers to carry to the plugin (trace context, caller's own). */
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A plugin as the manager sees it: one instance behind one transport.
 *
 * `execute` resolves with the response, or rejects. Rejecting with {@link applicationError}
 * (a `PLUGIN_1208` PluginError) is the plugin's own "no": returned to the caller as is. Any other
 * rejection is a failure, retried when transient.
 */
export interface Plugin<Req = unknown, Resp = unknown> {
  readonly name: string;
  info(signal?: AbortSignal): Promise<PluginInfo> | PluginInfo;
  execute(request: Req, ctx: ExecutionContext): Promise<Resp>;
  health(signal: AbortSignal): Promise<HealthStatus>;
  /** Connect, spawn, handshake. Called once before the first execute; may be retried on failure. */
  start?(signal: AbortSignal): Promise<void>;
  /** Release everything (sockets, processes, timers). Idempotent. */
  close(): Promise<void>;
}

/**
 * Encodes request and response bodies. JSON by default; a host may plug in another codec.
 * Transports that carry JSON envelopes (HTTP, Unix, exec) embed `toWire()` output in `data`.
 */
export interface Codec {
  /** Registered name, e.g. `json`. */
  readonly name: string;
  /** MIME type used where the transport has one. */
  readonly contentType: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/**
 * Structured logger. pino satisfies it as is; `console` satisfies it too (fields are printed as
 * an object). Messages never contain secrets.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

/** Services a factory may use when it creates a plugin. */
export interface FactoryDeps {
  codec: Codec;
  logger: Logger;
  /**
   * Called by transports that spawn a program (exec) right before every spawn, restarts
   * included; a rejection refuses the spawn and is the start's error. The manager passes
   * discovery's binary check here (docs/discovery.md).
   */
  verify?: ((config: PluginConfig) => Promise<void>) | undefined;
}

/** One problem a transport finds in a plugin's configuration. */
export interface ConfigProblem {
  /** Field path relative to the plugin, e.g. `endpoint` or `auth.certFile`. */
  path: string;
  /** What is wrong and how to fix it. Never quote a secret. */
  message: string;
  /** The go-plugins code when one fits (`PLUGIN_1003` missing endpoint, …); else `PLUGIN_1000`. */
  code?: ErrorCode | undefined;
}

/**
 * Creates plugins for one or more transports. Registered by name with
 * `manager.registerFactory(transport, factory)`; the built-in transports are registered this way.
 */
export interface PluginFactory<Req = unknown, Resp = unknown> {
  /** Transport names this factory serves, e.g. `['http', 'https']`. */
  readonly transports: readonly string[];
  /**
   * The transport's own checks (endpoint format, required files, options), beyond the shared
   * schema. Return one problem per mistake; an empty array when the config is usable.
   */
  validate?(config: PluginConfig): ConfigProblem[];
  /**
   * The top-level fields `validate` reads. It runs as soon as these (and `name`, `transport`) are
   * valid, so its problems are listed together with every other one. Without it, `validate` runs
   * only on an otherwise valid plugin.
   */
  readonly validates?: readonly (keyof PluginConfig)[];
  /**
   * Loads what `create` needs (a dynamic `import()` of the transport and its packages). The
   * manager awaits it before it creates a plugin of this transport, so `import 'plugwire'` loads
   * no transport dependency; a rejection (a missing package) fails that `load()` or `reload()`.
   */
  prepare?(): Promise<void>;
  create(config: PluginConfig, deps: FactoryDeps): Plugin<Req, Resp>;
}

/** A transport's own checks on a plugin's config: the `validate` part of a {@link PluginFactory}. */
export type TransportValidator = Pick<PluginFactory, 'validate' | 'validates'>;

/** Per-call options of `manager.execute()`. */
export interface ExecuteOptions {
  /** Aborts the call; the promise rejects at once with `PLUGIN_1206`, and nothing is retried. */
  signal?: AbortSignal | undefined;
  /** Deadline for the whole call (all attempts), ms. Capped by the plugin's `requestTimeout`. */
  timeoutMs?: number | undefined;
  /** Carried to the plugin; generated when absent. */
  requestId?: string | undefined;
  /** Routing key for consistent-hash groups. */
  key?: string | undefined;
  /** Logical operation name (metrics, adaptive balancing). */
  operation?: string | undefined;
  headers?: Record<string, string> | undefined;
  metadata?: Record<string, string> | undefined;
  /**
   * This call may run twice without harm: overrides the plugin's (or group's) `idempotent`.
   * A failure after the request was sent, or a 5xx, is retried only for idempotent calls, and
   * only idempotent calls are hedged. See docs/resilience.md.
   */
  idempotent?: boolean | undefined;
  /** A retry rule for this call only, instead of the manager's `retryRule`. */
  retryRule?: RetryRule | undefined;
}
