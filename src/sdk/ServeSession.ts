import { parseJson, preview } from '../internal/untrusted.js';
import type { Readable, Writable } from 'node:stream';
import { fromEnvelopeData, toEnvelopeData } from '../codec.js';
import { redactSecrets } from '../errors.js';
import type { HandlerTracing } from '../observe/sdkTracing.js';
import { runHandler, runHealth } from './dispatch.js';
import type { HandlerOutcome } from './dispatch.js';
import { HandlerCall } from './HandlerCall.js';
import { addStrings } from './records.js';
import type { Handler, ServeOptions } from './types.js';
import type { Codec, Logger } from '../types.js';
import { excerpt } from '../transport/ndjson/errors.js';
import { LineReader } from '../transport/ndjson/LineReader.js';
import type { LineSink, OversizedLine } from '../transport/ndjson/LineReader.js';
import { errorMessage } from '../internal/errorMessage.js';

/** How a {@link ServeSession} is set up. */
export interface ServeSessionOptions {
  handler: Handler<unknown, unknown>;
  serve: ServeOptions;
  codec: Codec;
  logger: Logger;
  /** Request lines come from here (a socket, stdin). */
  input: Readable;
  /** Reply lines go there (the same socket, stdout). */
  output: Writable;
  /** Called once the input has ended and every request read has been answered. */
  onFinished?: (() => void) | undefined;
  /** Server spans continuing the host's trace, when the serve options ask for them. */
  tracing?: HandlerTracing | undefined;
}

// A request line as read; every field is checked before use.
interface IncomingRequest {
  type?: unknown;
  request_id: string;
  data?: unknown;
  headers?: unknown;
  metadata?: unknown;
  timeout_ms?: unknown;
}

/**
 * The plugin side of one newline-JSON conversation (one Unix connection, or stdin/stdout): reads
 * request lines, runs each through the handler concurrently, writes each reply as soon as it is
 * ready. Shared by `serveUnix` and `serveStdio`.
 *
 * When the output is full, reading pauses until it drains, so a slow host cannot make the plugin
 * buffer without bound.
 */
export class ServeSession implements LineSink {
  readonly #options: ServeSessionOptions;
  readonly #reader = new LineReader(this);
  readonly #abort = new AbortController();
  /** The running `execute` handlers by request id, so that a `cancel` can stop one. */
  readonly #running = new Map<string, HandlerCall>();
  #inFlight = 0;
  #inputEnded = false;
  #refusing = false;
  #finished = false;
  #idleWaiters: Array<() => void> = [];
  /** Replies finished in this tick, written together by {@link writeBatch} at its end. */
  #batch = '';
  /** Set while a chunk of input is being read: its replies are written when it has been read. */
  #reading = false;

  constructor(options: ServeSessionOptions) {
    this.#options = options;
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.resume = this.resume.bind(this);
    this.writeBatch = this.writeBatch.bind(this);
    options.input.on('data', this.onData);
    options.input.on('end', this.onEnd);
  }

  /** Requests being handled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** From now on, answer new requests with a retryable "shutting down" failure. */
  refuseNew(): void {
    this.#refusing = true;
  }

  /** Resolves once no request is being handled, with every reply written. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) {
      this.writeBatch();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Aborts every running handler (their signals fire); the link is going away. */
  abortAll(reason: unknown): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(reason);
    for (const call of this.#running.values()) call.abort(reason);
  }

  /** Stops listening to the input. */
  detach(): void {
    this.writeBatch();
    this.#options.input.off('data', this.onData);
    this.#options.input.off('end', this.onEnd);
    this.#options.output.off('drain', this.resume);
  }

  /** @internal */
  onData(chunk: Buffer | string): void {
    this.#reading = true;
    try {
      this.#reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } finally {
      this.#reading = false;
    }
    // The replies of handlers that answered at once, in one write.
    this.writeBatch();
  }

  /** @internal */
  onEnd(): void {
    this.#reader.end();
    this.#inputEnded = true;
    this.#maybeFinished();
  }

  /** @internal the output drained: read again. */
  resume(): void {
    this.#options.input.resume();
  }

  /** @internal LineSink */
  line(text: string): void {
    let message: unknown;
    try {
      message = parseJson(text);
    } catch {
      this.#options.logger.warn({ line: excerpt(text) }, 'skipped a request line that is not JSON');
      return;
    }
    const request = message as IncomingRequest;
    if (
      typeof message !== 'object' ||
      message === null ||
      typeof request.request_id !== 'string' ||
      request.request_id === ''
    ) {
      this.#options.logger.warn({ line: excerpt(text) }, 'skipped a request without request_id');
      return;
    }
    if (request.type === 'cancel') {
      // The host gave up on that request: stop its handler. No reply is expected; a cancel for
      // a request already answered (or never seen) is a no-op.
      this.#running.get(request.request_id)?.abort(new Error('the host cancelled the request'));
      return;
    }
    if (this.#refusing) {
      this.#write({
        type: request.type,
        request_id: request.request_id,
        success: false,
        error: 'plugin is shutting down',
        retryable: true,
      });
      return;
    }
    if (request.type === 'execute') {
      this.#execute(request);
      return;
    }
    this.#inFlight++;
    void this.#dispatch(request).finally(() => this.#done());
  }

  /** @internal LineSink: request lines have no limit, so this never happens. */
  oversized(_line: OversizedLine): void {}

  async #dispatch(request: IncomingRequest): Promise<void> {
    const { request_id: id, type } = request;
    try {
      switch (type) {
        case 'health': {
          const signal = timeoutSignal(this.#abort.signal, request.timeout_ms);
          const status = await runHealth(this.#options.serve, signal);
          return this.#write({ type, request_id: id, success: true, data: status });
        }
        case 'info':
          return this.#write({
            type,
            request_id: id,
            success: true,
            data: this.#options.serve.info ?? { name: 'plugin' },
          });
        case 'ping':
          return this.#write({ type, request_id: id, success: true, data: null });
        default:
          return this.#write({
            type,
            request_id: id,
            success: false,
            error: `unknown request type ${preview(type, 40)}`,
          });
      }
    } catch (error) {
      this.#options.logger.error(
        { requestId: id, error: redactSecrets(String(error)) },
        'failed to answer a request',
      );
      this.#write({ type, request_id: id, success: false, error: 'plugin failed to reply' });
    }
  }

  /**
   * Starts an `execute` request. Its handler runs at once; the reply is written when the handler
   * settles (in the same tick when it returns a plain value), with no promise of the session's
   * own in between.
   */
  #execute(request: IncomingRequest): void {
    const { codec } = this.#options;
    const id = request.request_id;
    let input: unknown;
    try {
      input = fromEnvelopeData(codec, request.data);
    } catch (error) {
      const reason = errorMessage(error);
      this.#write({
        type: 'execute',
        request_id: id,
        success: false,
        error: `cannot decode request data: ${reason}`,
      });
      return;
    }
    // A `cancel` aborts this handler only, abortAll every one: no controller or listener per
    // request, the session aborts the call itself.
    const call = new HandlerCall({
      requestId: id,
      headers: addStrings({}, request.headers),
      metadata: addStrings({}, request.metadata),
      timeoutMs: typeof request.timeout_ms === 'number' ? request.timeout_ms : undefined,
    });
    const session = this.#abort.signal;
    if (session.aborted) call.abort(session.reason);
    // Ids are unique among a connection's requests in flight; a duplicate only loses its cancel.
    const tracked = !this.#running.has(id);
    if (tracked) this.#running.set(id, call);
    this.#inFlight++;
    const outcome = runHandler(this.#options.handler, input, call, this.#options.tracing);
    if (outcome instanceof Promise) {
      void outcome.then((settled) => this.#executed(call, tracked, settled));
    } else {
      this.#executed(call, tracked, outcome);
    }
  }

  /** Writes the reply to an `execute` whose handler has settled. */
  #executed(call: HandlerCall, tracked: boolean, outcome: HandlerOutcome<unknown>): void {
    const id = call.requestId;
    if (tracked) this.#running.delete(id);
    try {
      if (outcome.ok) {
        this.#write({
          type: 'execute',
          request_id: id,
          success: true,
          data: toEnvelopeData(this.#options.codec, outcome.value),
        });
      } else {
        this.#write({
          type: 'execute',
          request_id: id,
          success: false,
          error: outcome.error,
          ...(outcome.retryable ? { retryable: true } : {}),
        });
      }
    } catch (error) {
      // The codec cannot encode what the handler returned.
      this.#options.logger.error(
        { requestId: id, error: redactSecrets(String(error)) },
        'failed to answer a request',
      );
      this.#write({
        type: 'execute',
        request_id: id,
        success: false,
        error: 'plugin failed to reply',
      });
    }
    this.#done();
  }

  #write(reply: Record<string, unknown>): void {
    let line: string;
    try {
      line = `${JSON.stringify(reply)}\n`;
    } catch (error) {
      // The handler returned something JSON cannot carry (BigInt, a cycle).
      line = `${JSON.stringify({
        type: reply.type,
        request_id: reply.request_id,
        success: false,
        error: `cannot encode the response: ${errorMessage(error)}`,
      })}\n`;
    }
    // The replies of one tick (the handlers that finished together) leave in one write at its
    // end: one syscall and one wake-up of the host instead of one per reply. Replies made while
    // a chunk is read leave when it has been read (onData), without a tick of their own.
    // (A reply to an output that is gone is dropped by writeBatch.)
    if (this.#batch === '') {
      this.#batch = line;
      if (!this.#reading) process.nextTick(this.writeBatch);
    } else {
      this.#batch += line;
    }
  }

  /** @internal writes the replies batched in this tick. */
  writeBatch(): void {
    const text = this.#batch;
    this.#batch = '';
    const output = this.#options.output;
    if (text === '' || output.destroyed || output.writableEnded) return;
    if (!output.write(text)) {
      this.#options.input.pause();
      output.once('drain', this.resume);
    }
  }

  #done(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      // Whoever waits for idle (close, shutdown) finds every reply written.
      this.writeBatch();
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.#maybeFinished();
  }

  #maybeFinished(): void {
    if (this.#finished || !this.#inputEnded || this.#inFlight > 0) return;
    this.#finished = true;
    this.writeBatch();
    this.#options.onFinished?.();
  }
}

function timeoutSignal(parent: AbortSignal, timeoutMs: unknown): AbortSignal {
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) return parent;
  return AbortSignal.any([parent, AbortSignal.timeout(timeoutMs)]);
}
