import type { Cancellation } from '../types.js';

/**
 * `work`, or a rejection with `onAbort()` as soon as `signal` aborts, whichever comes first.
 * The listener is removed either way. `mapError` rewrites `work`'s own rejection (to a typed error).
 * For waits a transport cannot cancel by itself in time (a queued request, a connect).
 *
 * `signal` is any {@link Cancellation}: an `AbortSignal`, or an attempt's cheaper
 * `ctx.cancellation`.
 */
export function raceSignal<T>(
  work: Promise<T>,
  signal: Cancellation | undefined,
  onAbort: () => unknown,
  mapError: (error: unknown) => unknown = (error) => error,
): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    work.catch(() => undefined); // abandoned: its failure is not anyone's concern any more
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(mapError(error));
      },
    );
  });
}
