import { fromEnvelopeData } from '../../codec.js';
import { ErrorCode, PluginError, annotateError, applicationError } from '../../errors.js';
import type { Codec } from '../../types.js';
import {
  JsonTooDeepError,
  MAX_MESSAGE_CHARS,
  parseJson,
  preview,
} from '../../internal/untrusted.js';
import type { HttpReply, ReplyReader } from './exchange.js';

/** The reply envelope a plugin sends back (go-plugins compatible). */
export interface ReplyEnvelope {
  data?: unknown;
  /** Non-empty: the plugin's own "no" (or a failure, with `retryable: true`). */
  error?: unknown;
  /** plugwire extension: the failure is worth retrying. */
  retryable?: unknown;
  /** plugwire extension: wait this long (ms) before retrying. */
  retry_after_ms?: unknown;
  request_id?: unknown;
  metadata?: unknown;
}

/** Whether an HTTP status, on its own, says "try again": 5xx (502/503/504…) and 429. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * Turns one HTTP reply into the call's outcome: the decoded value, or a typed PluginError.
 *
 * - 2xx, empty `error` → the value of `data`.
 * - 2xx, non-empty `error` → the plugin's own "no" (`PLUGIN_1208`), or a retryable failure
 *   (`PLUGIN_1203`) when the reply also says `"retryable": true`.
 * - any status, body that is not a JSON object (HTML error page, truncated JSON) →
 *   `PLUGIN_1209`, retryable when the status is.
 * - a `request_id` that is present and not ours → `PLUGIN_1209`: the reply belongs to another
 *   call, so its content must not be returned.
 * - non-2xx → `TRANSPORT_1301`; retryable for 5xx and 429 unless the body says
 *   `"retryable": false` (plugwire's SDK does when its handler's error was not transient).
 */
export function decodeReply(
  plugin: string,
  status: number,
  body: Buffer,
  contentType: string | string[] | undefined,
  requestId: string,
  codec: Codec,
  retryAfter?: string,
): unknown {
  const ok = status >= 200 && status < 300;
  if (!ok && body.length === 0) throw statusFailure(plugin, status, undefined, retryAfter);

  let envelope: ReplyEnvelope;
  try {
    envelope = parseJson(body.toString('utf8')) as ReplyEnvelope;
  } catch (error) {
    // A body too deep to read: a failed status still says what happened, a 2xx cannot be used.
    if (error instanceof JsonTooDeepError && !ok) {
      throw statusFailure(plugin, status, undefined, retryAfter);
    }
    throw invalidReply(
      plugin,
      status,
      error instanceof JsonTooDeepError ? `is ${error.message}` : 'is not JSON',
      contentType,
      error,
    );
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw invalidReply(plugin, status, 'is not a JSON object', contentType);
  }
  if (!ok) throw statusFailure(plugin, status, envelope, retryAfter);

  const replyId = envelope.request_id;
  if (replyId !== undefined && replyId !== null && replyId !== '' && replyId !== requestId) {
    throw new PluginError(
      ErrorCode.InvalidResponse,
      `plugin "${plugin}" answered for another request (request_id ${preview(replyId, 80)})`,
      { plugin, retryable: false, details: { status, requestId } },
    );
  }

  const message = errorText(envelope.error);
  if (message !== undefined) {
    if (envelope.retryable === true) {
      throw new PluginError(ErrorCode.PluginExecutionFailed, `plugin "${plugin}": ${message}`, {
        plugin,
        retryable: true,
        details: { status },
        phase: 'replied',
        retryAfterMs: retryAfterField(envelope.retry_after_ms),
      });
    }
    throw annotateError(applicationError(message), plugin);
  }

  try {
    return fromEnvelopeData(codec, envelope.data);
  } catch (error) {
    throw new PluginError(
      ErrorCode.InvalidResponse,
      `plugin "${plugin}" sent data the ${codec.name} codec cannot decode`,
      { plugin, retryable: false, cause: error, details: { status } },
    );
  }
}

/** Decodes the execute replies of one plugin ({@link decodeReply}); shared by all its calls. */
export class ExecuteReplies implements ReplyReader<unknown> {
  constructor(
    readonly plugin: string,
    readonly limit: number,
    readonly codec: Codec,
  ) {}

  read(reply: HttpReply, body: Buffer): unknown {
    return decodeReply(
      this.plugin,
      reply.statusCode,
      body,
      reply.contentType,
      reply.requestId,
      this.codec,
      reply.retryAfter,
    );
  }
}

/**
 * The envelope's `error` as text, or undefined when there is none (absent, null, ""). Bounded:
 * an error object is previewed, never serialised whole (it may be nested thousands deep).
 */
function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null || error === '' || error === false) return undefined;
  if (typeof error === 'string') return preview(error, MAX_MESSAGE_CHARS);
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && message !== ''
    ? preview(message, MAX_MESSAGE_CHARS)
    : preview(error, MAX_MESSAGE_CHARS);
}

function statusFailure(
  plugin: string,
  status: number,
  envelope: ReplyEnvelope | undefined,
  retryAfter?: string,
): PluginError {
  const message = envelope ? errorText(envelope.error) : undefined;
  // The body may veto a retry (the SDK knows whether its handler's error was transient), never
  // turn a 4xx into something retried.
  const retryable = isRetryableStatus(status) && envelope?.retryable !== false;
  return new PluginError(
    ErrorCode.HTTPTransportError,
    `plugin "${plugin}" replied HTTP ${status}${message ? `: ${message}` : ''}`,
    {
      plugin,
      retryable,
      details: { status },
      phase: 'replied',
      retryAfterMs:
        retryAfter !== undefined
          ? parseRetryAfter(retryAfter)
          : retryAfterField(envelope?.retry_after_ms),
    },
  );
}

/**
 * `Retry-After` in ms: delay-seconds (`"1"`) or an HTTP date. Undefined when unreadable or in
 * the past (the normal backoff applies then), as undici's RetryHandler reads it.
 */
export function parseRetryAfter(value: string, now = Date.now()): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const wait = at - now;
  return wait > 0 ? wait : undefined;
}

/** The envelope's `retry_after_ms` (plugwire extension): a non-negative number, else ignored. */
export function retryAfterField(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function invalidReply(
  plugin: string,
  status: number,
  what: string,
  contentType: string | string[] | undefined,
  cause?: unknown,
): PluginError {
  return new PluginError(
    ErrorCode.InvalidResponse,
    `reply of plugin "${plugin}" (HTTP ${status}${contentType ? `, ${String(contentType)}` : ''}) ${what}`,
    {
      plugin,
      retryable: status >= 300 && isRetryableStatus(status),
      cause,
      details: { status },
    },
  );
}
