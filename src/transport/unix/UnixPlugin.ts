import type { PluginConfig } from '../../config/types.js';
import type {
  ExecutionContext,
  FactoryDeps,
  HealthStatus,
  Plugin,
  PluginInfo,
} from '../../types.js';
import {
  ExecuteReplies,
  executeCall,
  healthCall,
  healthFailure,
  infoCall,
} from '../ndjson/calls.js';
import type { UnixConnection } from './UnixConnection.js';
import { UnixPool } from './UnixPool.js';

/**
 * A plugin reached over a Unix domain socket with plugwire's newline-JSON protocol
 * (docs/protocol/unix.md): a small pool of connections, many calls in flight on each.
 *
 * One attempt per `execute`; retries, breaker and the deadline across attempts are the
 * manager's. Connection failures are retryable `PLUGIN_1205`; the plugin's own `success: false`
 * is `PLUGIN_1208` (or `PLUGIN_1203` when it marks the failure `retryable`).
 */
export class UnixPlugin<Req = unknown, Resp = unknown> implements Plugin<Req, Resp> {
  readonly name: string;
  /** The socket path this plugin connects to. */
  readonly path: string;
  readonly #replies: ExecuteReplies;
  readonly #pool: UnixPool;
  readonly #requestTimeout: number;

  constructor(config: PluginConfig, path: string, deps: FactoryDeps) {
    this.name = config.name;
    this.path = path;
    this.#replies = new ExecuteReplies(config.name, deps.codec);
    this.#requestTimeout = config.connection.requestTimeout;
    this.#pool = new UnixPool({
      plugin: config.name,
      path,
      logger: deps.logger,
      maxConnections: config.connection.maxConnections,
      maxResponseBytes: config.connection.maxResponseBytes,
      connectTimeoutMs: config.connection.connectionTimeout,
    });
  }

  /** Connects once, proving the socket is there. */
  async start(signal: AbortSignal): Promise<void> {
    await this.#pool.acquire(signal);
  }

  execute(request: Req, ctx: ExecutionContext): Promise<Resp> {
    let connection: UnixConnection;
    try {
      connection = this.#pool.pick();
    } catch (error) {
      return Promise.reject(error);
    }
    // Connected: send in this same tick, so that the next pick already counts this call.
    if (!connection.connected) return this.#executeOnceConnected(connection, request, ctx);
    return executeCall(connection.channel, this.#replies, request, ctx) as Promise<Resp>;
  }

  async #executeOnceConnected(
    connection: UnixConnection,
    request: Req,
    ctx: ExecutionContext,
  ): Promise<Resp> {
    await this.#pool.connected(connection, ctx.cancellation);
    return (await executeCall(connection.channel, this.#replies, request, ctx)) as Resp;
  }

  /** `offline` when the socket cannot be reached, else what the plugin answers. */
  async health(signal: AbortSignal): Promise<HealthStatus> {
    const started = Date.now();
    try {
      const connection = await this.#pool.acquire(signal);
      return await healthCall(connection.channel, signal);
    } catch (error) {
      return healthFailure(error, started);
    }
  }

  async info(signal?: AbortSignal): Promise<PluginInfo> {
    const bounded = signal ?? AbortSignal.timeout(this.#requestTimeout);
    const connection = await this.#pool.acquire(bounded);
    return infoCall(connection.channel, this.name, bounded);
  }

  /** Destroys every socket; calls in flight fail with a retryable `PLUGIN_1215`. Idempotent. */
  async close(): Promise<void> {
    this.#pool.close();
  }
}
