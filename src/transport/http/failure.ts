import { raceSignal } from '../../internal/raceSignal.js';
import {
  ErrorCode,
  PluginError,
  errnoCode,
  isPluginError,
  isTransientError,
} from '../../errors.js';
import type { Cancellation } from '../../types.js';
import { abortError } from '../abort.js';
import { errorMessage } from '../../internal/errorMessage.js';

/**
 * Maps what undici throws while sending a request or reading its reply. Connection-level
 * problems (refused, reset, closed socket, connect timeout, a TLS handshake that failed) are
 * `PLUGIN_1205`, retryable when transient; a request undici refuses to send (a header value with a
 * newline, say) is `PLUGIN_1203` and never retried.
 *
 * The phase comes from where undici was: before it handed the request a connection (`written`
 * false: undici calls the handler's `onRequestStart` right before it writes the request line)
 * nothing reached the plugin, so the failure is `not-sent` (refused, DNS, connect timeout, pool
 * closed); after, the plugin may have read the request (`sent`: reset after write, hang-up).
 */
export function requestFailure(
  plugin: string,
  error: unknown,
  signal: Cancellation | undefined,
  written = true,
): PluginError {
  if (signal?.aborted) return abortError(plugin, signal.reason);
  if (isPluginError(error)) return error;
  const code = errnoCode(error);
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_CHAR') {
    return new PluginError(
      ErrorCode.PluginExecutionFailed,
      `request to plugin "${plugin}" could not be sent: ${(error as Error).message}`,
      { plugin, retryable: false, cause: error, phase: 'not-sent' },
    );
  }
  const reason = errorMessage(error);
  return new PluginError(
    ErrorCode.PluginConnectionFailed,
    `connection to plugin "${plugin}" failed: ${code ? `${code} ` : ''}${reason}`,
    {
      plugin,
      retryable: isTransientError(error),
      cause: error,
      phase: written ? 'sent' : 'not-sent',
    },
  );
}

/**
 * Settles with `work`, or rejects with {@link abortError} as soon as `signal` aborts. For the
 * waits an `Exchange` does not cover by itself (opening the pool reads the TLS files before
 * the first request). The abandoned `work` still ends quickly: its exchange listens to the same
 * signal.
 */
export function raceAbort<T>(work: Promise<T>, signal: Cancellation, plugin: string): Promise<T> {
  return raceSignal(
    work,
    signal,
    () => abortError(plugin, signal.reason),
    (error) => requestFailure(plugin, error, signal),
  );
}
