import { ErrorCode, PluginError } from '../errors.js';

interface Waiter {
  ready(): void;
  fail(why: string): void;
}

/**
 * The callers of `whenReady()`: each waits until readiness says ready, its timeout passes, its
 * signal aborts or the manager shuts down (then it is rejected with `PLUGIN_1213` and why).
 */
export class ReadyWaiters {
  private readonly waiters = new Set<Waiter>();

  /** @param reason why the manager is not ready now, for the rejection's message */
  constructor(private readonly reason: () => string) {}

  /** Resolves at the next {@link ReadyWaiters.ready}; rejects as described above. */
  async wait(options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined }) {
    const { timeoutMs, signal } = options;
    let waiter!: Waiter;
    const settled = new Promise<void>((resolve, reject) => {
      waiter = {
        ready: resolve,
        fail: (why) =>
          reject(
            new PluginError(ErrorCode.ManagerNotReady, `Not ready ${why}: ${this.reason()}`, {
              retryable: true,
            }),
          ),
      };
    });
    this.waiters.add(waiter);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => waiter.fail(`after ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => waiter.fail('(aborted)');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      await settled;
    } finally {
      this.waiters.delete(waiter);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The manager became ready: every waiter resolves. */
  ready(): void {
    for (const waiter of [...this.waiters]) waiter.ready();
  }

  /** The manager shuts down: every waiter is rejected. */
  shutdown(): void {
    for (const waiter of [...this.waiters]) waiter.fail('(the manager is shutting down)');
  }
}
