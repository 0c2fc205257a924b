import type { Cancellation } from '../../types.js';

/** What happened to a reply handed to {@link Correlator.resolve}. */
export type Delivery = 'delivered' | 'late' | 'unknown';

/**
 * Turns a call's reply into the value its promise resolves with; throwing rejects the call
 * instead. Shared by every call of one kind (one per plugin), so decoding a reply costs no
 * extra promise or closure per call.
 */
export interface ReplyReader<R, V> {
  read(reply: R): V;
}

/** The reader that resolves a call with its reply as is. */
const AS_IS: ReplyReader<unknown, unknown> = { read: (reply) => reply };

// Ids of calls given up on (aborted) are remembered for a while, so that their late replies are
// dropped quietly rather than reported as unknown.
const FORGOTTEN_IDS_KEPT = 1024;

/**
 * Tracks calls waiting for a reply on one connection, by request id.
 *
 * Each call settles exactly once: with its reply (through its {@link ReplyReader}), with an
 * error, when its cancellation fires (the id is then forgotten and a late reply is dropped), or
 * when the connection fails ({@link rejectAll}). A call costs one entry object, one promise and,
 * when it can be cancelled, one abort listener.
 */
export class Correlator<T> {
  readonly #pending = new Map<string, PendingCall<T>>();
  readonly #forgotten = new Set<string>();
  readonly #onAbort: (cancellation: Cancellation) => Error;
  readonly #onAbandon: ((id: string) => void) | undefined;

  /**
   * @param onAbort the error a call rejects with when its cancellation fires.
   * @param onAbandon told the id of a call given up on because its cancellation fired (once per
   * call, after it was rejected), so that the plugin can be told to stop.
   */
  constructor(onAbort: (cancellation: Cancellation) => Error, onAbandon?: (id: string) => void) {
    this.#onAbort = onAbort;
    this.#onAbandon = onAbandon;
  }

  /** Calls waiting for a reply. */
  get size(): number {
    return this.#pending.size;
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /** Whether `id` is waiting, or was given up on recently (a late reply may still come). */
  inUse(id: string): boolean {
    return this.#pending.has(id) || this.#forgotten.has(id);
  }

  /**
   * Starts waiting for the reply to `id`. The id must not be pending already. The promise
   * resolves with `reader.read(reply)` (the reply itself without a reader). If `cancellation`
   * has already fired, the promise rejects at once.
   */
  track<V = T>(
    id: string,
    cancellation: Cancellation | undefined,
    reader?: ReplyReader<T, V>,
  ): Promise<V> {
    if (this.#pending.has(id)) throw new Error(`request id ${id} is already in flight`);
    const call = new PendingCall<T>(
      this,
      id,
      cancellation,
      (reader ?? AS_IS) as ReplyReader<T, unknown>,
    );
    const promise = new Promise<V>((resolve, reject) => {
      call.resolve = resolve as (value: unknown) => void;
      call.reject = reject;
    });
    if (cancellation?.aborted) {
      call.reject(this.#onAbort(cancellation));
      return promise;
    }
    this.#pending.set(id, call);
    if (this.#forgotten.size > 0) this.#forgotten.delete(id);
    if (cancellation !== undefined) call.listen(cancellation);
    return promise;
  }

  /** Settles the call `id` with its reply (or with the error its reader throws). */
  resolve(id: string, reply: T): Delivery {
    const call = this.#take(id);
    if (call === undefined) return this.#forgotten.has(id) ? 'late' : 'unknown';
    let value: unknown;
    try {
      value = call.reader.read(reply);
    } catch (error) {
      call.reject(error);
      return 'delivered';
    }
    call.resolve(value);
    return 'delivered';
  }

  /** Settles the call `id` with an error; false when no such call is waiting. */
  reject(id: string, error: unknown): boolean {
    const call = this.#take(id);
    if (call === undefined) return false;
    call.reject(error);
    return true;
  }

  /** Fails every waiting call (the connection is gone). Returns how many there were. */
  rejectAll(error: unknown): number {
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of calls) {
      call.detach();
      call.reject(error);
    }
    return calls.length;
  }

  /** @internal called by a pending call whose cancellation fired. */
  abort(call: PendingCall<T>): void {
    if (this.#pending.get(call.id) !== call) return;
    this.#pending.delete(call.id);
    this.#forget(call.id);
    call.reject(this.#onAbort(call.cancellation!));
    this.#onAbandon?.(call.id);
  }

  #take(id: string): PendingCall<T> | undefined {
    const call = this.#pending.get(id);
    if (call === undefined) return undefined;
    this.#pending.delete(id);
    call.detach();
    return call;
  }

  #forget(id: string): void {
    if (this.#forgotten.size >= FORGOTTEN_IDS_KEPT) {
      const oldest = this.#forgotten.values().next().value;
      if (oldest !== undefined) this.#forgotten.delete(oldest);
    }
    this.#forgotten.add(id);
  }
}

/** @internal One call waiting for its reply. */
export class PendingCall<T> {
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  /** The abort listener, set only when the call can be cancelled. */
  #onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly owner: Correlator<T>,
    readonly id: string,
    readonly cancellation: Cancellation | undefined,
    readonly reader: ReplyReader<T, unknown>,
  ) {}

  // A `Cancellation` takes plain functions (no listener objects), hence one closure per call.
  listen(cancellation: Cancellation): void {
    this.#onAbort = () => this.owner.abort(this);
    cancellation.addEventListener('abort', this.#onAbort, { once: true });
  }

  detach(): void {
    if (this.#onAbort !== undefined) this.cancellation!.removeEventListener('abort', this.#onAbort);
  }
}
