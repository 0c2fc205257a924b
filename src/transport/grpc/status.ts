import { status as Status } from '@grpc/grpc-js';
import { ErrorCode, PluginError, isTransientError, type FailurePhase } from '../../errors.js';
import type { Cancellation } from '../../types.js';
import { MAX_MESSAGE_CHARS, preview } from '../../internal/untrusted.js';
import { abortError } from '../abort.js';
import { errorMessage } from '../../internal/errorMessage.js';

/** What the status mapping needs to know about the call that failed. */
export interface FailedCall {
  plugin: string;
  /** The attempt's signal; when it aborted, the abort (not the status) explains the failure. */
  signal?: Cancellation | undefined;
  /** The channel's receive limit, to tell "reply too large" from "request too large". */
  maxResponseBytes: number;
}

// grpc-js's own wording for statuses it makes up when the connection, not the plugin, failed.
const CONNECTION_FAILED =
  /No connection established|failed to connect|Name resolution failed|Connection dropped|Stream refused|Channel closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOENT|EHOSTUNREACH|ENETUNREACH|socket hang up|Socket closed/i;
// grpc-js's wording when the call never reached the server: no connection, no resolution, a
// stream that could not start or that the server refused before reading it (REFUSED_STREAM,
// which gRPC's retry design A6 also treats as never seen by the server).
const NEVER_SENT =
  /No connection established|failed to connect|Name resolution failed|Channel closed before call started|Failed to start HTTP\/2 stream|Stream refused/i;
const CONNECTION_DROPPED =
  /RST_STREAM|Connection dropped|ECONNRESET|EPIPE|session|socket|Call ended without gRPC status/i;
const TLS_FAILURE =
  /certificate|self[- ]signed|SSL|TLS|handshake|alert|unable to verify|Hostname\/IP does not match/i;
// grpc-js: "Received message larger than max (X vs Y)"; Go: "grpc: received message larger than
// max (X vs. Y)"; Java: "gRPC message exceeds maximum size Y".
const RECEIVED_TOO_LARGE =
  /Received message (?:larger than max \(\d+ vs\.? (\d+)\)|that decompresses to a size larger than (\d+))/i;
const MESSAGE_TOO_LARGE = /larger than max|exceeds maximum size|size larger than/i;

/**
 * Turns a failed gRPC call into a {@link PluginError}: the code says what happened, `retryable`
 * whether the pipeline may try again.
 *
 * | status | error |
 * |---|---|
 * | UNAVAILABLE (no connection, dropped) | PLUGIN_1205, retryable (TLS failures: not retryable) |
 * | UNAVAILABLE (sent by the plugin), RESOURCE_EXHAUSTED, ABORTED, CANCELLED (not by us) | TRANSPORT_1302, retryable |
 * | DEADLINE_EXCEEDED | PLUGIN_1204, retryable (the pipeline checks the time left) |
 * | RESOURCE_EXHAUSTED over our receive limit | PLUGIN_1210 |
 * | INTERNAL, UNKNOWN | TRANSPORT_1302, retryable only when the connection dropped |
 * | INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, UNIMPLEMENTED, … | TRANSPORT_1302 |
 */
export function grpcCallError(error: unknown, call: FailedCall): PluginError {
  if (call.signal?.aborted) return abortError(call.plugin, call.signal.reason);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'number') {
    return new PluginError(
      ErrorCode.GRPCTransportError,
      `gRPC call to plugin "${call.plugin}" failed: ${preview(messageOf(error), MAX_MESSAGE_CHARS)}`,
      { plugin: call.plugin, retryable: isTransientError(error), cause: error },
    );
  }
  // A server may send megabytes of details (or echo our credentials): kept bounded and redacted.
  const details = preview(
    String((error as { details?: unknown }).details ?? messageOf(error)),
    MAX_MESSAGE_CHARS,
  );
  const name = Status[code] ?? `code ${code}`;
  // Where the call got to: never sent (see NEVER_SENT), cut after it was sent (a dropped
  // connection, a stream reset without status), or answered with this status by the server.
  const phase: FailurePhase = NEVER_SENT.test(details)
    ? 'not-sent'
    : code === Status.DEADLINE_EXCEEDED
      ? 'timeout'
      : CONNECTION_DROPPED.test(details) && code !== Status.RESOURCE_EXHAUSTED
        ? 'sent'
        : 'replied';
  const pushback = phase === 'replied' ? retryPushback(error) : undefined;
  const options = (retryable: boolean) => ({
    plugin: call.plugin,
    // A6: a pushback that is not a non-negative integer means "do not retry".
    retryable: retryable && pushback !== STOP,
    cause: error,
    details: { grpcCode: code, grpcStatus: name },
    phase,
    retryAfterMs: pushback === STOP ? undefined : pushback,
  });
  const say = (hint = '') =>
    `plugin "${call.plugin}" answered gRPC ${name}: ${details || '(no details)'}${hint}`;

  switch (code) {
    case Status.DEADLINE_EXCEEDED:
      return new PluginError(
        ErrorCode.PluginTimeout,
        `plugin "${call.plugin}" did not answer before the deadline (gRPC DEADLINE_EXCEEDED: ${details})`,
        options(true),
      );
    case Status.UNAVAILABLE:
      if (TLS_FAILURE.test(details)) {
        return new PluginError(
          ErrorCode.PluginConnectionFailed,
          `cannot connect to plugin "${call.plugin}": TLS failed (${details}); check tls.caFile, tls.serverName and the client certificate`,
          options(false),
        );
      }
      if (CONNECTION_FAILED.test(details)) {
        return new PluginError(
          ErrorCode.PluginConnectionFailed,
          `cannot reach plugin "${call.plugin}": ${details}`,
          options(true),
        );
      }
      return new PluginError(ErrorCode.GRPCTransportError, say(), options(true));
    case Status.RESOURCE_EXHAUSTED: {
      // Our own receive limit names our maxResponseBytes; any other limit is the server's.
      const tooLarge = RECEIVED_TOO_LARGE.exec(details);
      if (tooLarge && Number(tooLarge[1] ?? tooLarge[2]) === call.maxResponseBytes) {
        return new PluginError(
          ErrorCode.ResponseTooLarge,
          `plugin "${call.plugin}" replied with more than connection.maxResponseBytes (${call.maxResponseBytes} bytes): ${details}`,
          options(false),
        );
      }
      if (MESSAGE_TOO_LARGE.test(details)) {
        // The plugin's server refused our request: sending it again cannot help.
        return new PluginError(
          ErrorCode.GRPCTransportError,
          say('; the request is larger than the plugin server accepts'),
          options(false),
        );
      }
      return new PluginError(ErrorCode.GRPCTransportError, say(), options(true));
    }
    case Status.ABORTED:
    case Status.CANCELLED:
      return new PluginError(ErrorCode.GRPCTransportError, say(), options(true));
    case Status.INTERNAL:
    case Status.UNKNOWN:
      if (/Response message parsing error/i.test(details)) {
        return new PluginError(
          ErrorCode.InvalidResponse,
          `plugin "${call.plugin}" sent a reply that is not a plugwire.v1 message: ${details}`,
          options(false),
        );
      }
      return new PluginError(
        ErrorCode.GRPCTransportError,
        say(),
        options(CONNECTION_DROPPED.test(details)),
      );
    case Status.UNIMPLEMENTED:
      return new PluginError(
        ErrorCode.GRPCTransportError,
        say(
          '; the server does not implement this method of plugwire.v1.Plugin (see docs/protocol/grpc.md)',
        ),
        options(false),
      );
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return new PluginError(
        ErrorCode.GRPCTransportError,
        say('; check the auth section'),
        options(false),
      );
    default:
      return new PluginError(ErrorCode.GRPCTransportError, say(), options(false));
  }
}

const STOP = -1;

/**
 * The server's `grpc-retry-pushback-ms` trailer (gRPC A6): ms to wait before a retry, `STOP`
 * when it says not to retry (a negative or non-integer value), undefined when absent.
 */
export function retryPushback(error: unknown): number | undefined {
  const metadata = (error as { metadata?: { get?: (key: string) => unknown[] } } | null)?.metadata;
  const values = typeof metadata?.get === 'function' ? metadata.get('grpc-retry-pushback-ms') : [];
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const text = String(values[0]);
  return /^\d+$/.test(text) ? Number(text) : STOP;
}

function messageOf(error: unknown): string {
  return errorMessage(error);
}
