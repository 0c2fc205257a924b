import { abortError } from './errors.js';

/**
 * `promise`, or a rejection as soon as `signal` aborts (with the error {@link abortError} gives).
 * For the rare waits outside a call (connecting, starting); calls themselves use the Correlator.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  plugin: string,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortError(plugin, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(plugin, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
