import { ErrorCode, PluginError, annotateError, isPluginError } from '../errors.js';

/**
 * The error an attempt rejects with when its cancellation fires, the same for every transport:
 * a {@link PluginError} reason (the pipeline's deadline, shutdown, or a reload interrupting the
 * attempt with a retryable error) is passed through as is, so the pipeline decides what it
 * means; a `TimeoutError` reason (an `AbortSignal.timeout()` given to health or info) is
 * `PLUGIN_1204`; anything else is the caller giving up, `PLUGIN_1206`.
 */
export function abortError(plugin: string, reason: unknown): PluginError {
  if (isPluginError(reason)) return annotateError(reason, plugin);
  if ((reason as { name?: unknown } | null | undefined)?.name === 'TimeoutError') {
    return new PluginError(ErrorCode.PluginTimeout, `call to plugin "${plugin}" timed out`, {
      plugin,
      retryable: true,
      cause: reason,
    });
  }
  return new PluginError(ErrorCode.CallAborted, `call to plugin "${plugin}" was aborted`, {
    plugin,
    retryable: false,
    cause: reason,
  });
}
