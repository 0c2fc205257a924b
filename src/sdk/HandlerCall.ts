import { Deadlines } from '../pipeline/Deadlines.js';
import type { Expiring, Lane } from '../pipeline/Deadlines.js';
import type { HandlerContext } from './types.js';

/** What a server knows about an incoming request, in transport-neutral form. */
export interface IncomingCall {
  requestId: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** Time the host allows, ms, relative to arrival; undefined when the host sent none. */
  timeoutMs: number | undefined;
}

/**
 * The deadlines of every request a plugin process is handling: one timer per lane, never one
 * per request. The host sends the time left (`timeout_ms`), which differs from request to
 * request, so requests are grouped by their timeout rounded up to 1/64 of it (1 ms up to 64 ms):
 * a signal aborts at most that late (≈1.6%, e.g. 0.5 s of a 30 s deadline), and the host,
 * which keeps the exact deadline, has told the plugin already (a `cancel`, a closed connection,
 * a cancelled gRPC call).
 */
const deadlines = new Deadlines();

/** The lane key of a timeout: rounded up to a power of two ≤ 1/64 of it. */
export function laneOf(timeoutMs: number): number {
  if (timeoutMs <= 64) return Math.ceil(timeoutMs);
  const step = 2 ** Math.floor(Math.log2(timeoutMs / 64));
  return Math.ceil(timeoutMs / step) * step;
}

/**
 * One request being handled, and the {@link HandlerContext} its handler sees. The AbortSignal is
 * created only when the handler reads `ctx.signal`; the deadline is watched by a shared lane
 * (no timer per request); the transport aborts the request through {@link abort} (a `cancel`,
 * a closed connection) instead of through a signal and listener of its own.
 */
export class HandlerCall implements HandlerContext, Expiring {
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute deadline (epoch ms), if the host sent a timeout. */
  readonly deadline: number | undefined;
  /** @internal when the deadline passes, on the `performance.now()` clock. */
  readonly expiresAt: number;
  /** @internal */
  prevDue: Expiring | undefined = undefined;
  /** @internal */
  nextDue: Expiring | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;
  #lane: Lane | undefined = undefined;

  constructor(call: IncomingCall) {
    this.requestId = call.requestId;
    this.headers = call.headers;
    this.metadata = call.metadata;
    const timeoutMs = call.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      this.deadline = Date.now() + timeoutMs;
      this.expiresAt = performance.now() + timeoutMs;
      this.#lane = deadlines.watch(this, laneOf(timeoutMs));
    } else {
      this.deadline = undefined;
      this.expiresAt = Number.POSITIVE_INFINITY;
    }
  }

  /** Aborts when the deadline passes or the transport aborts the request. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
      else if (this.#lane !== undefined && performance.now() >= this.expiresAt) this.expire();
    }
    return this.#controller.signal;
  }

  /** Whether the request was aborted (without creating its signal). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Aborts the request (its signal fires with `reason`). Idempotent. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#stopWatching();
    this.#controller?.abort(reason);
  }

  /** @internal the deadline passed (its lane has let go of it already). */
  expire(): void {
    this.#lane = undefined;
    this.abort(new Error('deadline exceeded'));
  }

  /** The handler is done: stop watching the deadline. */
  finish(): void {
    this.#stopWatching();
  }

  #stopWatching(): void {
    const lane = this.#lane;
    if (lane === undefined) return;
    this.#lane = undefined;
    lane.remove(this);
  }
}
