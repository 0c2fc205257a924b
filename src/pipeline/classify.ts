import { ErrorCode, PluginError, errnoCode, isPluginError, isTransientError } from '../errors.js';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTCONN', 'ENOENT']);

/**
 * Turns whatever a plugin threw into a {@link PluginError}. Errors the plugin already typed keep
 * their code; anything else is a failure, retryable when it looks transient (connection refused or
 * reset, socket hang-up, `retryable: true`).
 */
export function toPluginError(error: unknown, plugin: string): PluginError {
  if (isPluginError(error)) {
    if (error.plugin === undefined) error.plugin = plugin;
    return error;
  }
  const retryable = isTransientError(error);
  const errno = errnoCode(error);
  const code =
    errno !== undefined && CONNECTION_CODES.has(errno)
      ? ErrorCode.PluginConnectionFailed
      : ErrorCode.PluginExecutionFailed;
  const reason = error instanceof Error ? error.message : String(error);
  return new PluginError(code, `Plugin '${plugin}' failed: ${reason}`, {
    plugin,
    retryable,
    cause: error,
  });
}
