import type { Cancellation, Logger } from '../../types.js';
import { closedError } from '../ndjson/errors.js';
import { untilAborted } from '../ndjson/untilAborted.js';
import { UnixConnection } from './UnixConnection.js';

/** How a {@link UnixPool} is set up. */
export interface UnixPoolOptions {
  plugin: string;
  path: string;
  logger: Logger;
  /** Most sockets open at once (at least 1). */
  maxConnections: number;
  maxResponseBytes: number;
  connectTimeoutMs: number;
}

/**
 * A few sockets to one Unix plugin, opened lazily. Each call goes to the least busy connection;
 * a new one is opened only while every open one is busy and the pool is not full. A connection
 * that breaks leaves the pool (its calls fail retryably) and is replaced on next use.
 *
 * Connections that a read left with nothing in flight are listed as idle, so that picking one is
 * O(1) in the common case (each reply frees its connection for the next call); the full scan for
 * the least busy one runs only when none is listed.
 */
export class UnixPool {
  readonly #options: UnixPoolOptions;
  #connections: UnixConnection[] = [];
  /** Connections that went idle, most recent last; some may have been used or closed since. */
  #idle: UnixConnection[] = [];
  #closed = false;

  constructor(options: UnixPoolOptions) {
    this.#options = { ...options, maxConnections: Math.max(1, options.maxConnections) };
    this.forget = this.forget.bind(this);
    this.idle = this.idle.bind(this);
  }

  /** Open (or opening) connections. */
  get size(): number {
    return this.#connections.length;
  }

  /**
   * The connection the next call should use: the least busy one, or a new one while every open
   * one is busy and the pool is not full. It may still be connecting: see {@link connected}.
   * Synchronous, so that a call picked here is counted as in flight before the next pick.
   */
  pick(): UnixConnection {
    if (this.#closed) {
      throw closedError(this.#options.plugin);
    }
    const idle = this.#idle;
    while (idle.length > 0) {
      const connection = idle.pop()!;
      connection.listedIdle = false;
      if (connection.load === 0 && connection.connected) return connection;
    }
    let best: UnixConnection | undefined;
    for (const connection of this.#connections) {
      const load = connection.load;
      if (best === undefined || load < best.load) {
        best = connection;
        if (load === 0) break;
      }
    }
    if (
      best === undefined ||
      (best.load > 0 && this.#connections.length < this.#options.maxConnections)
    ) {
      best = this.#open();
    }
    return best;
  }

  /**
   * Waits until `connection` is connected. Rejects with a retryable `PLUGIN_1205` when the plugin
   * cannot be reached, or when `signal` aborts first.
   */
  async connected(connection: UnixConnection, signal?: Cancellation): Promise<UnixConnection> {
    if (connection.connected) return connection;
    connection.waiting++;
    try {
      await untilAborted(connection.ready, signal, this.#options.plugin);
    } finally {
      connection.waiting--;
    }
    return connection;
  }

  /** {@link pick}, then wait until it is {@link connected}. */
  acquire(signal?: Cancellation): Promise<UnixConnection> {
    try {
      return this.connected(this.pick(), signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes every socket; calls in flight fail with a retryable `PLUGIN_1215` (phase `sent`; not
   * sent, for those still waiting to be written or for their socket to connect). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const connections = this.#connections;
    this.#connections = [];
    this.#idle = [];
    const error = closedError(this.#options.plugin, 'sent');
    for (const connection of connections) connection.destroy(error);
  }

  /** @internal a read left `connection` with no call in flight: the next pick may take it. */
  idle(connection: UnixConnection): void {
    if (connection.listedIdle) return;
    connection.listedIdle = true;
    this.#idle.push(connection);
  }

  /** @internal a connection is gone: the next call opens a fresh one. */
  forget(connection: UnixConnection): void {
    const index = this.#connections.indexOf(connection);
    if (index !== -1) this.#connections.splice(index, 1);
  }

  #open(): UnixConnection {
    const { plugin, path, logger, maxResponseBytes, connectTimeoutMs } = this.#options;
    const connection = new UnixConnection({
      plugin,
      path,
      logger,
      maxResponseBytes,
      connectTimeoutMs,
      onGone: this.forget,
      onIdle: this.idle,
    });
    this.#connections.push(connection);
    return connection;
  }
}
