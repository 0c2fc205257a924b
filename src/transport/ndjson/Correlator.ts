/** What happened to a reply handed to {@link Correlator.resolve}. */
export type Delivery = 'delivered' | 'late' | 'unknown';

// Ids of calls given up on (aborted) are remembered for a while, so that their late replies are
// dropped quietly rather than reported as unknown.
const FORGOTTEN_IDS_KEPT = 1024;

/**
 * Tracks calls waiting for a reply on one connection, by request id.
 *
 * Each call settles exactly once: with its reply, with an error, when its signal aborts (the id
 * is then forgotten and a late reply is dropped), or when the connection fails
 * ({@link rejectAll}). The abort listener is the pending entry itself (`handleEvent`), so a call
 * costs one object and one promise, no closures.
 */
export class Correlator<T> {
  readonly #pending = new Map<string, PendingCall<T>>();
  readonly #forgotten = new Set<string>();
  readonly #onAbort: (signal: AbortSignal) => Error;

  /** @param onAbort the error a call rejects with when its signal aborts. */
  constructor(onAbort: (signal: AbortSignal) => Error) {
    this.#onAbort = onAbort;
  }

  /** Calls waiting for a reply. */
  get size(): number {
    return this.#pending.size;
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /**
   * Starts waiting for the reply to `id`. The id must not be pending already.
   * If `signal` is already aborted the promise rejects at once.
   */
  track(id: string, signal: AbortSignal | undefined): Promise<T> {
    if (this.#pending.has(id)) throw new Error(`request id ${id} is already in flight`);
    const call = new PendingCall<T>(this, id, signal);
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    if (signal?.aborted) {
      call.reject(this.#onAbort(signal));
      return promise;
    }
    this.#pending.set(id, call);
    if (this.#forgotten.size > 0) this.#forgotten.delete(id);
    signal?.addEventListener('abort', call, { once: true });
    return promise;
  }

  /** Settles the call `id` with its reply. */
  resolve(id: string, value: T): Delivery {
    const call = this.#take(id);
    if (call === undefined) return this.#forgotten.has(id) ? 'late' : 'unknown';
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

  /** @internal called by a pending call whose signal aborted. */
  abort(call: PendingCall<T>): void {
    if (this.#pending.get(call.id) !== call) return;
    this.#pending.delete(call.id);
    this.#forget(call.id);
    call.reject(this.#onAbort(call.signal!));
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

/** @internal One call waiting for its reply; doubles as its signal's abort listener. */
export class PendingCall<T> {
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;

  constructor(
    readonly owner: Correlator<T>,
    readonly id: string,
    readonly signal: AbortSignal | undefined,
  ) {}

  handleEvent(): void {
    this.owner.abort(this);
  }

  detach(): void {
    this.signal?.removeEventListener('abort', this);
  }
}
