import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../../types.js';
import { Channel } from '../ndjson/Channel.js';
import { connectionError, notSent } from '../ndjson/errors.js';

/** What a {@link UnixConnection} needs to know. */
export interface UnixConnectionOptions {
  plugin: string;
  path: string;
  logger: Logger;
  maxResponseBytes: number;
  connectTimeoutMs: number;
  /** Called once when the connection is gone (failed to connect, or closed later). */
  onGone(connection: UnixConnection): void;
  /** Called when a read left the connection with no call in flight. */
  onIdle(connection: UnixConnection): void;
}

/**
 * One socket to a Unix plugin, carrying many calls at once through a {@link Channel}.
 * When the socket closes, every call still waiting fails with a retryable `PLUGIN_1205`.
 */
export class UnixConnection {
  readonly channel: Channel;
  /** Resolves once connected; rejects with `PLUGIN_1205` (retryable) when connecting fails. */
  readonly ready: Promise<void>;
  /** Callers waiting for `ready`, counted as load when picking a connection. */
  waiting = 0;
  /** Set while the pool holds this connection in its list of idle ones. */
  listedIdle = false;
  #connected = false;
  #gone = false;
  #lastError: Error | undefined;
  /** Why {@link destroy} closed it, if it did. */
  #destroyedWith: Error | undefined;
  readonly #socket: Socket;
  readonly #options: UnixConnectionOptions;

  constructor(options: UnixConnectionOptions) {
    this.#options = options;
    const socket = createConnection({ path: options.path });
    this.#socket = socket;
    this.channel = new Channel({
      plugin: options.plugin,
      logger: options.logger,
      output: socket,
      maxLineBytes: options.maxResponseBytes,
      source: 'socket',
      onStall: () => this.#retire(),
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' });
        socket.destroy(error);
      }, options.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.#connected = true;
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        if (!this.#connected) {
          reject(
            this.#destroyedWith !== undefined
              ? notSent(this.#destroyedWith)
              : connectionError(
                  options.plugin,
                  `cannot connect to unix socket ${options.path}`,
                  this.#lastError,
                  'not-sent',
                ),
          );
        }
      });
    });
    // Nobody may be waiting any more (the caller aborted); the rejection is still observed.
    this.ready.catch(() => {});
    socket.on('data', (chunk: Buffer) => {
      this.channel.push(chunk);
      if (this.channel.inFlight === 0) options.onIdle(this);
    });
    socket.on('end', () => this.channel.end());
    socket.on('error', (error) => {
      this.#lastError = error;
    });
    socket.on('close', () => this.#onClose());
  }

  /** Calls in flight plus callers waiting to use this connection. */
  get load(): number {
    return this.channel.inFlight + this.waiting;
  }

  /** True while the socket is connected and open. */
  get connected(): boolean {
    return this.#connected && !this.#gone;
  }

  /** Closes the socket now; calls still waiting fail with `error`. The pool forgets it at once. */
  destroy(error: Error): void {
    const wasGone = this.#gone;
    this.#gone = true;
    this.#destroyedWith ??= error;
    this.channel.close(error);
    this.#socket.destroy();
    if (!wasGone) this.#options.onGone(this);
  }

  // A call gave up while a reply line was half received: the replies of every other call on this
  // socket are queued behind that line. The connection is retired (its calls fail with a
  // retryable PLUGIN_1205, to be retried on a fresh one) instead of taking more calls it cannot
  // answer.
  #retire(): void {
    if (this.#gone) return;
    const { plugin, path, logger } = this.#options;
    try {
      logger.warn(
        { plugin, path, bufferedBytes: this.channel.bufferedBytes },
        'retired a connection stuck behind a partial reply line',
      );
    } catch {
      // The connection is retired whatever the logger does.
    }
    this.destroy(
      connectionError(plugin, 'connection retired: a reply line stalled part-way through'),
    );
  }

  #onClose(): void {
    const wasGone = this.#gone;
    this.#gone = true;
    if (this.#connected) {
      this.channel.close(
        connectionError(this.#options.plugin, 'connection to the plugin closed', this.#lastError),
      );
    } else {
      // Nothing is written before the socket connects.
      this.channel.close(
        connectionError(
          this.#options.plugin,
          'connection to the plugin failed',
          this.#lastError,
          'not-sent',
        ),
      );
    }
    if (!wasGone) this.#options.onGone(this);
  }
}
