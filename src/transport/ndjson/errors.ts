import {
  ErrorCode,
  PluginError,
  errnoCode,
  isPluginError,
  withPhase,
  type FailurePhase,
} from '../../errors.js';
import { MAX_MESSAGE_CHARS, PREVIEW_CHARS, preview } from '../../internal/untrusted.js';
import type { Cancellation } from '../../types.js';
import { abortError as sharedAbortError } from '../abort.js';
import { errorMessage } from '../../internal/errorMessage.js';

/**
 * The errors the newline-JSON transports (Unix socket, exec) produce, in one place so that both
 * classify the same situation the same way.
 */

/**
 * The link to the plugin failed or went away: retryable, possibly on another instance. `phase`
 * says whether the calls it fails may have been written (`sent`, the default: the plugin may
 * have run them) or certainly were not (`not-sent`: no link yet, plugin closed or down).
 */
export function connectionError(
  plugin: string,
  message: string,
  cause?: unknown,
  phase: FailurePhase = 'sent',
): PluginError {
  const code = errnoCode(cause);
  return new PluginError(
    ErrorCode.PluginConnectionFailed,
    `${plugin}: ${message}${code ? ` (${code})` : ''}`,
    { plugin, retryable: true, cause, phase },
  );
}

/**
 * The plugin instance was closed (`close()`), as on the HTTP and gRPC transports: retryable, on
 * another instance or a reload's new one. `sent` for the calls a close cut off in flight.
 */
export function closedError(plugin: string, phase: FailurePhase = 'not-sent'): PluginError {
  return new PluginError(ErrorCode.PluginClosed, `plugin "${plugin}" is closed`, {
    plugin,
    retryable: true,
    phase,
  });
}

/** `error` for a call that was never written (still queued, or sent after the link closed). */
export function notSent(error: unknown): unknown {
  return isPluginError(error) ? withPhase(error, 'not-sent') : error;
}

/** The error a call rejects with when its cancellation fires (see the shared {@link sharedAbortError}). */
export function abortError(plugin: string, signal: Cancellation): PluginError {
  return sharedAbortError(plugin, signal.reason);
}

/** The call's deadline passed (no time was left to send it, or it ran out while waiting). */
export function timeoutError(plugin: string, cause?: unknown): PluginError {
  return new PluginError(ErrorCode.PluginTimeout, `${plugin}: deadline exceeded`, {
    plugin,
    retryable: false,
    cause,
  });
}

/** The request cannot be written as a JSON line (a BigInt, a cycle…): sending it again cannot help. */
export function encodeError(plugin: string, cause: unknown): PluginError {
  return new PluginError(
    ErrorCode.PluginExecutionFailed,
    `${plugin}: cannot encode the request as JSON: ${errorMessage(cause)}`,
    { plugin, retryable: false, cause, phase: 'not-sent' },
  );
}

/** The plugin's reply line was longer than `connection.maxResponseBytes`. */
export function tooLargeError(plugin: string, bytes: number, limit: number): PluginError {
  return new PluginError(
    ErrorCode.ResponseTooLarge,
    `${plugin}: reply of ${bytes} bytes exceeds connection.maxResponseBytes (${limit}); raise the limit or send less`,
    { plugin, retryable: false, details: { bytes, limit } },
  );
}

/** The reply matched a call but could not be understood. */
export function invalidResponseError(
  plugin: string,
  message: string,
  cause?: unknown,
): PluginError {
  return new PluginError(ErrorCode.InvalidResponse, `${plugin}: ${message}`, {
    plugin,
    retryable: false,
    cause,
  });
}

/**
 * The plugin answered `success: false`. Its own "no" (`PLUGIN_1208`) unless it marked the failure
 * `retryable: true` (`PLUGIN_1203`, retried by the manager).
 */
export function replyError(
  plugin: string,
  message: unknown,
  retryable: boolean,
  retryAfterMs?: number,
): PluginError {
  const text =
    typeof message === 'string' && message !== ''
      ? preview(message, MAX_MESSAGE_CHARS)
      : 'plugin reported a failure';
  return new PluginError(
    retryable ? ErrorCode.PluginExecutionFailed : ErrorCode.ApplicationError,
    retryable ? `${plugin}: ${text}` : text,
    { plugin, retryable, phase: 'replied', retryAfterMs: retryable ? retryAfterMs : undefined },
  );
}

/** A short, secret-free excerpt of a line for logs (see {@link preview}). */
export function excerpt(text: string, max = PREVIEW_CHARS): string {
  return preview(text, max);
}
