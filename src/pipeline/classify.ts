import {
  ErrorCode,
  PluginError,
  annotateError,
  errnoCode,
  isPluginError,
  isTransientError,
} from '../errors.js';
import { errorMessage } from '../internal/errorMessage.js';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTCONN', 'ENOENT']);
// Errnos that mean no connection was made, so nothing was sent.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Turns whatever a plugin threw into a {@link PluginError}. Errors the plugin already typed keep
 * their code (and phase); anything else is a failure, retryable when it looks transient
 * (connection refused or reset, socket hang-up, `retryable: true`). Its phase: `not-sent` for an
 * errno that means no connection was made (ECONNREFUSED, ENOENT, DNS), `replied` for an error
 * the plugin marked `retryable: true` (its own "try again"), else `sent`: the plugin ran.
 */
export function toPluginError(error: unknown, plugin: string): PluginError {
  if (isPluginError(error)) {
    return annotateError(error, plugin);
  }
  const retryable = isTransientError(error);
  const errno = errnoCode(error);
  const code =
    errno !== undefined && CONNECTION_CODES.has(errno)
      ? ErrorCode.PluginConnectionFailed
      : ErrorCode.PluginExecutionFailed;
  const reason = errorMessage(error);
  const phase =
    errno !== undefined && NOT_SENT_CODES.has(errno)
      ? 'not-sent'
      : (error as { retryable?: unknown } | null)?.retryable === true
        ? 'replied'
        : 'sent';
  return new PluginError(code, `Plugin '${plugin}' failed: ${reason}`, {
    plugin,
    retryable,
    cause: error,
    phase,
  });
}
