import type { Dispatcher } from 'undici';
import { ErrorCode, PluginError } from '../../errors.js';
import type { Cancellation } from '../../types.js';
import { abortError } from '../abort.js';
import { requestFailure } from './failure.js';

/** A complete reply, as an {@link ReplyReader} sees it. */
export interface HttpReply {
  readonly statusCode: number;
  readonly contentType: string | string[] | undefined;
  /** The request id the exchange was sent with ('' for health and info). */
  readonly requestId: string;
  /** The `Retry-After` header of a 429 or 503 reply, as sent. */
  readonly retryAfter: string | undefined;
}

/**
 * Turns a complete reply into the value of its {@link Exchange}; throwing (a PluginError) fails
 * the exchange instead. One per plugin and kind of request, shared by every exchange.
 */
export interface ReplyReader<T> {
  /** Plugin name, for errors. */
  readonly plugin: string;
  /** Longest body accepted (`connection.maxResponseBytes`). */
  readonly limit: number;
  read(reply: HttpReply, body: Buffer): T;
}

/** The reply is larger than `connection.maxResponseBytes`: `PLUGIN_1210`, not retryable. */
export function tooLarge(plugin: string, limit: number, announced?: number): PluginError {
  return new PluginError(
    ErrorCode.ResponseTooLarge,
    `reply of plugin "${plugin}" exceeds connection.maxResponseBytes (${limit} bytes)`,
    {
      plugin,
      retryable: false,
      details: announced === undefined ? { limit } : { limit, contentLength: announced },
    },
  );
}

/**
 * One HTTP request and its reply, as an undici dispatch handler: the body is collected straight
 * from the socket into one buffer, with no response stream, async iterator or extra promise
 * per call (undici's `request()` makes all three). {@link promise} settles exactly once.
 *
 * - The body never holds more than `limit` bytes: a reply that announces (content-length) or
 *   grows past it fails with `PLUGIN_1210` and the request is aborted, so undici drops that
 *   socket and the pool opens a fresh one for the next call.
 * - When `cancellation` fires, the promise rejects at once, even while the request still waits in
 *   the pool's queue for a free connection (undici would only notice once it reaches a socket);
 *   the request is aborted as soon as undici hands it a connection.
 * - undici's own failures (refused, reset, cut-short body, invalid header) are mapped by
 *   {@link requestFailure}.
 */
export class Exchange<T> implements Dispatcher.DispatchHandler, HttpReply {
  statusCode = 0;
  contentType: string | string[] | undefined = undefined;
  retryAfter: string | undefined = undefined;
  /** Set once undici handed the request a connection: from then on it may have been written. */
  #written = false;
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  /** The error the exchange failed with before undici gave it a connection. */
  #abortWith: PluginError | undefined = undefined;
  // The body: most replies come in one chunk, so an array is made only for the second.
  #first: Buffer | undefined = undefined;
  #rest: Buffer[] | undefined = undefined;
  #size = 0;
  #done = false;
  #onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly reader: ReplyReader<T>,
    readonly requestId: string,
    readonly cancellation: Cancellation | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (cancellation === undefined) return;
    if (cancellation.aborted) {
      this.#fail(abortError(reader.plugin, cancellation.reason));
      return;
    }
    // A Cancellation takes plain functions (no listener objects): one closure per exchange.
    this.#onAbort = () => this.#fail(abortError(this.reader.plugin, this.cancellation!.reason));
    cancellation.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Sends the request on `dispatcher`; settles {@link promise}. */
  send(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<T> {
    if (!this.#done) dispatcher.dispatch(options, this);
    return this.promise;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#abortWith !== undefined) controller.abort(this.#abortWith);
    else {
      this.#controller = controller;
      this.#written = true;
    }
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200 || this.#done) return; // 1xx: interim, the real reply follows
    this.#controller = controller;
    this.statusCode = statusCode;
    this.contentType = headers['content-type'];
    if (statusCode === 429 || statusCode === 503) {
      const retryAfter = headers['retry-after'];
      this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    }
    const length = headers['content-length'];
    if (typeof length === 'string') {
      const announced = Number(length);
      const { plugin, limit } = this.reader;
      if (announced > limit) this.#fail(tooLarge(plugin, limit, announced));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size > this.reader.limit) {
      this.#controller = controller;
      this.#fail(tooLarge(this.reader.plugin, this.reader.limit));
      return;
    }
    if (this.#first === undefined) this.#first = chunk;
    else (this.#rest ??= [this.#first]).push(chunk);
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#settle();
    const body =
      this.#rest !== undefined
        ? Buffer.concat(this.#rest, this.#size)
        : (this.#first ?? Buffer.alloc(0));
    this.#first = this.#rest = undefined;
    let value: T;
    try {
      value = this.reader.read(this, body);
    } catch (error) {
      this.#reject(error);
      return;
    }
    this.#resolve(value);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#done) return;
    this.#settle();
    this.#reject(requestFailure(this.reader.plugin, error, this.cancellation, this.#written));
  }

  /** Fails now; a request undici has not started yet is aborted when it does. */
  #fail(error: PluginError): void {
    if (this.#done) return;
    this.#settle();
    this.#first = this.#rest = undefined;
    const controller = this.#controller;
    if (controller === undefined) this.#abortWith = error;
    else if (!controller.aborted) controller.abort(error);
    this.#reject(error);
  }

  #settle(): void {
    this.#done = true;
    if (this.#onAbort !== undefined) {
      this.cancellation!.removeEventListener('abort', this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}
