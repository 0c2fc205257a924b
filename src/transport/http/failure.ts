import { raceSignal } from '../../internal/raceSignal.js';
import {
  ErrorCode,
  PluginError,
  errnoCode,
  isPluginError,
  isTransientError,
} from '../../errors.js';
import type { Cancellation } from '../../types.js';

/** True when an abort reason means "out of time" rather than "the caller gave up". */
function isTimeoutReason(reason: unknown): boolean {
  if (isPluginError(reason)) return reason.code === ErrorCode.PluginTimeout;
  return (reason as { name?: unknown } | null)?.name === 'TimeoutError';
}

/**
 * The error an attempt rejects with when its signal aborts: `PLUGIN_1204` (retryable, a later
 * attempt may have time) when the reason is a timeout, else `PLUGIN_1206` (the caller gave up).
 */
export function abortFailure(plugin: string, reason: unknown): PluginError {
  return isTimeoutReason(reason)
    ? new PluginError(ErrorCode.PluginTimeout, `plugin "${plugin}" did not answer in time`, {
        plugin,
        retryable: true,
        cause: reason,
      })
    : new PluginError(ErrorCode.CallAborted, `call to plugin "${plugin}" was aborted`, {
        plugin,
        retryable: false,
        cause: reason,
      });
}

/**
 * Maps what undici throws while sending a request or reading its reply. Connection-level
 * problems (refused, reset, closed socket, connect timeout, a TLS handshake that failed) are
 * `PLUGIN_1205`, retryable when transient; a request undici refuses to send (a header value with a
 * newline, say) is `PLUGIN_1203` and never retried.
 */
export function requestFailure(
  plugin: string,
  error: unknown,
  signal: Cancellation | undefined,
): PluginError {
  if (signal?.aborted) return abortFailure(plugin, signal.reason);
  if (isPluginError(error)) return error;
  const code = errnoCode(error);
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_CHAR') {
    return new PluginError(
      ErrorCode.PluginExecutionFailed,
      `request to plugin "${plugin}" could not be sent: ${(error as Error).message}`,
      { plugin, retryable: false, cause: error },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new PluginError(
    ErrorCode.PluginConnectionFailed,
    `connection to plugin "${plugin}" failed: ${code ? `${code} ` : ''}${reason}`,
    { plugin, retryable: isTransientError(error), cause: error },
  );
}

/**
 * Settles with `work`, or rejects with {@link abortFailure} as soon as `signal` aborts. For the
 * waits an `Exchange` does not cover by itself (opening the pool reads the TLS files before
 * the first request). The abandoned `work` still ends quickly: its exchange listens to the same
 * signal.
 */
export function raceAbort<T>(work: Promise<T>, signal: Cancellation, plugin: string): Promise<T> {
  return raceSignal(
    work,
    signal,
    () => abortFailure(plugin, signal.reason),
    (error) => requestFailure(plugin, error, signal),
  );
}
