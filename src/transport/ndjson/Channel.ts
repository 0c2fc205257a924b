import type { Writable } from 'node:stream';
import type { Cancellation, Logger } from '../../types.js';
import { Correlator } from './Correlator.js';
import type { ReplyReader } from './Correlator.js';
import type { WireReply, WireRequest } from './envelope.js';
import { findRequestId } from './envelope.js';
import {
  abortError,
  encodeError,
  excerpt,
  invalidResponseError,
  notSent,
  tooLargeError,
} from './errors.js';
import { JsonTooDeepError, parseJson, preview } from '../../internal/untrusted.js';
import { LineReader } from './LineReader.js';
import type { LineSink, OversizedLine } from './LineReader.js';

/** How a {@link Channel} is set up. */
export interface ChannelOptions {
  /** Plugin name, for errors and logs. */
  plugin: string;
  logger: Logger;
  /** Where request lines are written (a socket, a child's stdin). */
  output: Writable;
  /** Longest reply line accepted (`connection.maxResponseBytes`). */
  maxLineBytes: number;
  /** Where replies come from, for logs (`socket`, `stdout`). */
  source: string;
  /**
   * Receives JSON objects that carry no `request_id` (the exec handshake). Without it they are
   * logged and skipped.
   */
  onMessage?: ((message: Record<string, unknown>) => void) | undefined;
  /**
   * Called when a call gives up (deadline, abort) while a reply line has been half received for
   * at least {@link STALL_AFTER_MS}: every reply behind that line is stuck until it ends, which a
   * stalled or hostile plugin may never do. The owner retires the connection rather than send
   * more calls into it. (A line merely cut by a chunk boundary is not a stall.)
   */
  onStall?: (() => void) | undefined;
}

/** How long a reply line may stay half received before a call giving up calls it a stall. */
export const STALL_AFTER_MS = 1_000;

// A line waiting for the output to drain. A request is dropped if its call ended meanwhile; a
// cancel (`control`) is always sent.
interface QueuedLine {
  id: string;
  line: string;
  control: boolean;
  /** A tick's batch that waits whole: the ids of the requests in it (not sent yet). */
  ids?: string[];
}

/**
 * One newline-JSON conversation with a plugin over any byte stream pair: writes request lines,
 * reads reply lines (feed it with {@link push}) and matches them to their calls by `request_id`,
 * with many calls in flight. Shared by the Unix socket and exec transports.
 *
 * A reply line that is not JSON, or names no waiting call, is logged and skipped: it never fails
 * the connection and never takes another call's reply. A reply longer than `maxLineBytes` fails
 * its own call with `PLUGIN_1210` and the channel goes on. The lines of one tick are written
 * together at its end; writes wait for `drain` when the output is full.
 */
export class Channel implements LineSink {
  readonly #options: ChannelOptions;
  readonly #reader: LineReader;
  readonly #calls: Correlator<WireReply>;
  #queue: QueuedLine[] = [];
  /** Set from a tick's first line to the tick's end. */
  #batching = false;
  /** The lines of this tick, sent together by {@link writeBatch} at its end. */
  #batch = '';
  /** The request ids in {@link #batch} (cancels left out): not sent until it is written. */
  #batchIds: string[] = [];
  #closedWith: unknown = undefined;
  #seq = 0;
  /** When the reply line now half received began (epoch ms). */
  #partialSince = 0;

  constructor(options: ChannelOptions) {
    this.#options = options;
    this.#reader = new LineReader(this, options.maxLineBytes);
    this.#calls = new Correlator<WireReply>(
      (cancellation) => {
        if (
          options.onStall !== undefined &&
          this.#reader.bufferedBytes > 0 &&
          Date.now() - this.#partialSince >= STALL_AFTER_MS
        ) {
          options.onStall();
        }
        return abortError(options.plugin, cancellation);
      },
      (id) => this.#cancel(id),
    );
    this.flush = this.flush.bind(this);
    this.writeBatch = this.writeBatch.bind(this);
  }

  /** The plugin's name. */
  get plugin(): string {
    return this.#options.plugin;
  }

  /** Bytes of a reply line received so far without its newline. */
  get bufferedBytes(): number {
    return this.#reader.bufferedBytes;
  }

  /** Calls waiting for their reply. */
  get inFlight(): number {
    return this.#calls.size;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  /**
   * `base` if no call with that id is waiting or was recently given up on (its late reply, or an
   * old plugin's answer to its cancel, may still come), else `base` with a unique suffix.
   */
  uniqueId(base: string): string {
    return this.#calls.inUse(base) ? `${base}#${++this.#seq}` : base;
  }

  /** A fresh id for a control request (`health-3`). */
  nextId(prefix: string): string {
    return `${prefix}-${++this.#seq}`;
  }

  /**
   * Sends one request and resolves with its reply (any `success`), or with what `reader` makes of
   * it. Rejects when `cancellation` fires, when the reply is too large, or when the channel
   * closes first.
   */
  request<V = WireReply>(
    request: WireRequest,
    cancellation?: Cancellation,
    reader?: ReplyReader<WireReply, V>,
  ): Promise<V> {
    // Closed: the request is not written, whatever closed the link.
    if (this.#closedWith !== undefined) return Promise.reject(notSent(this.#closedWith));
    // Already cancelled: the correlator rejects it at once, and nothing is sent.
    if (cancellation?.aborted) return this.#calls.track(request.request_id, cancellation, reader);
    let line: string;
    try {
      line = `${JSON.stringify(request)}\n`;
    } catch (error) {
      return Promise.reject(encodeError(this.#options.plugin, error));
    }
    const reply = this.#calls.track(request.request_id, cancellation, reader);
    this.#send(request.request_id, line, false);
    return reply;
  }

  // The lines of one tick (typically the calls started by the replies of one read) leave
  // together in one write at the tick's end (process.nextTick: before any I/O, so no latency is
  // added): one syscall and one wake-up of the plugin per tick instead of one per request.
  // Joining them is a string concatenation, flattened once when written. Measured against a
  // minimal exec server at 64 in flight: host CPU 21.5 -> 13.4 µs/call, the server's 10 -> 8
  // (docs/performance.md). Writing a tick's first line at once and batching the rest was no
  // better.
  #send(id: string, line: string, control: boolean): void {
    if (this.#queue.length > 0) {
      this.#queue.push({ id, line, control });
      return;
    }
    if (this.#batching) {
      this.#batch += line;
      if (!control) this.#batchIds.push(id);
      return;
    }
    const output = this.#options.output;
    if (output.writableNeedDrain) {
      output.once('drain', this.flush);
      this.#queue.push({ id, line, control });
      return;
    }
    this.#batching = true;
    this.#batch = line;
    if (!control) this.#batchIds.push(id);
    process.nextTick(this.writeBatch);
  }

  /**
   * @internal writes the lines batched in this tick now. Runs on its own at the end of the tick;
   * the owner calls it before ending the output, so that nothing batched is lost.
   */
  writeBatch(): void {
    this.#batching = false;
    const text = this.#batch;
    if (text === '') return;
    this.#batch = '';
    const ids = this.#batchIds;
    const output = this.#options.output;
    if (this.#closedWith !== undefined) {
      this.#batchIds = [];
      for (const id of ids) this.#calls.reject(id, notSent(this.#closedWith));
      return;
    }
    if (output.destroyed || output.writableEnded) {
      // The link is going: its close() fails these calls as not sent.
      this.#batchIds = [];
      this.#queue.push({ id: '', line: text, control: true, ids });
      return;
    }
    if (this.#queue.length > 0 || output.writableNeedDrain) {
      // The output is full: the batch waits for `drain` like any line (sent whole).
      if (this.#queue.length === 0) output.once('drain', this.flush);
      this.#batchIds = [];
      this.#queue.push({ id: '', line: text, control: true, ids });
      return;
    }
    ids.length = 0;
    output.write(text);
  }

  /** Feeds bytes read from the plugin. */
  push(chunk: Buffer): void {
    const wasPartial = this.#reader.bufferedBytes > 0;
    this.#reader.push(chunk);
    // A new line started and is not finished: note when, to tell a stall from a chunk boundary.
    if (this.#reader.bufferedBytes > 0 && (!wasPartial || chunk.includes(0x0a))) {
      this.#partialSince = Date.now();
    }
  }

  /** The read side ended: a last unterminated line is still read. */
  end(): void {
    this.#reader.end();
  }

  /** Fails every waiting call with `error` and refuses new ones (the link is gone). Idempotent. */
  close(error: unknown): void {
    if (this.#closedWith !== undefined) return;
    this.#closedWith = error;
    const queued = this.#queue;
    const batched = this.#batchIds;
    this.#queue = [];
    this.#batch = '';
    this.#batchIds = [];
    this.#options.output.off('drain', this.flush);
    // Lines still queued or batched were never written: their calls fail as not sent.
    for (const line of queued) {
      if (line.control !== true) this.#calls.reject(line.id, notSent(error));
      for (const id of line.ids ?? []) this.#calls.reject(id, notSent(error));
    }
    for (const id of batched) this.#calls.reject(id, notSent(error));
    this.#calls.rejectAll(error);
  }

  /** @internal writes queued lines while the output accepts them. */
  flush(): void {
    const output = this.#options.output;
    while (this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      // A call aborted while queued is not sent at all.
      if (!next.control && !this.#calls.has(next.id)) continue;
      if (!output.write(next.line)) break;
    }
    if (this.#queue.length > 0) output.once('drain', this.flush);
  }

  /**
   * @internal LineSink: one reply line. Whatever the plugin wrote, this never throws: the line is
   * read, or its call fails, or it is logged (bounded, redacted) and skipped.
   */
  line(text: string): void {
    try {
      this.#line(text);
    } catch (error) {
      this.#warn(`skipped a line that could not be handled (${preview(String(error), 80)})`, text);
    }
  }

  #line(text: string): void {
    let message: unknown;
    try {
      message = parseJson(text);
    } catch (error) {
      // A reply we cannot read still names its call, usually: fail that call now rather than
      // let it wait for its deadline.
      const id = findRequestId(text.slice(0, 4096), text.slice(-4096));
      const reason = error instanceof JsonTooDeepError ? error.message : 'not JSON';
      const failed =
        id !== undefined &&
        this.#calls.reject(
          id,
          invalidResponseError(this.#options.plugin, `reply line is ${reason}`),
        );
      this.#warn(`skipped a line that is ${reason}${failed ? ' (its call failed)' : ''}`, text);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.#warn('skipped a JSON line that is not an object', text);
      return;
    }
    const reply = message as WireReply;
    if (reply.type === 'cancel') {
      // A plugin that does not know `cancel` may answer it (the SDK before cancel did, with an
      // "unknown request type" error): that line is about a call already given up on.
      this.#options.logger.debug(
        { plugin: this.#options.plugin, source: this.#options.source, line: excerpt(text) },
        'skipped an answer to a cancel',
      );
      return;
    }
    const id: unknown = reply.request_id;
    if (typeof id !== 'string' || id === '') {
      if (this.#options.onMessage) this.#options.onMessage(message as Record<string, unknown>);
      else this.#warn('skipped a line without request_id', text);
      return;
    }
    const delivery = this.#calls.resolve(id, reply);
    if (delivery === 'unknown') this.#warn('skipped a reply for an unknown request_id', text);
  }

  /**
   * The call `id` was given up on (its caller aborted or its deadline passed) before its reply
   * came: tell the plugin with one `cancel` line, so that it can stop the work. A request still
   * queued here was never sent; {@link flush} drops it, and the plugin needs no cancel.
   */
  #cancel(id: string): void {
    if (this.#closedWith !== undefined) return;
    const output = this.#options.output;
    if (output.destroyed || output.writableEnded) return;
    if (this.#queue.some((queued) => queued.id === id && queued.control !== true)) return;
    this.#send(id, cancelLine(id), true);
  }

  /** @internal LineSink: a reply line over the limit. */
  oversized(line: OversizedLine): void {
    const { plugin, maxLineBytes, logger, source } = this.#options;
    const id = findRequestId(line.head, line.tail);
    const failed =
      id !== undefined && this.#calls.reject(id, tooLargeError(plugin, line.bytes, maxLineBytes));
    logger.warn(
      { plugin, source, bytes: line.bytes, limit: maxLineBytes, requestId: id, failedCall: failed },
      'discarded a reply line larger than connection.maxResponseBytes',
    );
  }

  #warn(message: string, text: string): void {
    try {
      this.#options.logger.warn(
        { plugin: this.#options.plugin, source: this.#options.source, line: excerpt(text) },
        message,
      );
    } catch {
      // A logger that throws must not take the connection (or the host) down with it.
    }
  }
}

function cancelLine(id: string): string {
  return `${JSON.stringify({ type: 'cancel', request_id: id })}\n`;
}
