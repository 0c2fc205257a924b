import { raceSignal } from '../../internal/raceSignal.js';
import type { Cancellation } from '../../types.js';
import { abortError } from './errors.js';

/**
 * `promise`, or a rejection as soon as `signal` aborts (with the error {@link abortError} gives).
 * For the rare waits outside a call (connecting, starting); calls themselves use the Correlator.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: Cancellation | undefined,
  plugin: string,
): Promise<T> {
  return raceSignal(promise, signal, () => abortError(plugin, signal!));
}
