import { fromEnvelopeData } from '../../codec.js';
import type { Codec, HealthState, HealthStatus, PluginInfo } from '../../types.js';
import { MAX_MESSAGE_CHARS, preview } from '../../internal/untrusted.js';
import { invalidResponseError, replyError } from './errors.js';
import { timeLeft } from '../../internal/timeLeft.js';

/**
 * The newline-JSON envelopes spoken on Unix sockets and exec pipes (docs/protocol/unix.md,
 * docs/protocol/exec.md). Field names follow go-plugins' Unix protocol.
 */

/**
 * Kinds of request a host sends. `cancel` (plugwire) names a request the host no longer waits
 * for; it expects no reply.
 */
export type RequestType = 'execute' | 'health' | 'info' | 'ping' | 'cancel';

/** One request line, host → plugin. */
export interface WireRequest {
  type: RequestType;
  /** Opaque correlation id; the reply must echo it verbatim. */
  request_id: string;
  /** The request body (`toEnvelopeData`), `execute` only. */
  data?: unknown;
  headers?: Readonly<Record<string, string>> | undefined;
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Milliseconds the host still allows for this call. */
  timeout_ms?: number | undefined;
  /** plugwire: which attempt of the call this is (1 = first), `execute` only. */
  attempt?: number | undefined;
}

/** One reply line, plugin → host. Only `request_id` is required to route it. */
export interface WireReply {
  type?: string;
  request_id: string;
  success?: boolean;
  data?: unknown;
  error?: string;
  /** With `success: false`: the failure is transient, the host may retry the call. */
  retryable?: boolean;
  /** plugwire: with `retryable: true`, wait this long (ms) before the retry. */
  retry_after_ms?: number;
  headers?: Record<string, string>;
}

/** The exec child's first line. */
export interface Handshake {
  type: 'handshake';
  protocol: number;
  name?: string;
  version?: string;
}

/** The protocol version this code speaks (`protocol` in the exec handshake). */
export const PROTOCOL_VERSION = 1;

/**
 * Whether a reply reports a failure: `success: false`, or no `success` but an `error`. A
 * `success` that is not a boolean (`"yes"`, `1`) is not a verdict: the reply is invalid
 * (`PLUGIN_1209`), never read as success.
 */
export function replyFailed(plugin: string, reply: WireReply): boolean {
  const success: unknown = reply.success;
  if (success === true) return false;
  if (success === false) return true;
  if (success !== undefined && success !== null) {
    throw invalidResponseError(
      plugin,
      `reply field "success" must be true or false, got ${preview(success, 40)}`,
    );
  }
  return typeof reply.error === 'string' && reply.error !== '';
}

/** The decoded response of an `execute` reply, or the PluginError it stands for. */
export function executeResult(plugin: string, codec: Codec, reply: WireReply): unknown {
  if (replyFailed(plugin, reply)) {
    throw replyError(plugin, reply.error, reply.retryable === true, retryAfter(reply));
  }
  try {
    return fromEnvelopeData(codec, reply.data);
  } catch (error) {
    throw invalidResponseError(
      plugin,
      `cannot decode reply data with the ${codec.name} codec`,
      error,
    );
  }
}

const HEALTH_STATES = new Set<HealthState>([
  'unknown',
  'healthy',
  'degraded',
  'unhealthy',
  'offline',
]);

/**
 * A `health` reply as a {@link HealthStatus}: success → `healthy` unless `data.status` names
 * another state; failure → `unhealthy` with the plugin's error as the message.
 */
export function healthFromReply(plugin: string, reply: WireReply, startedAt: number): HealthStatus {
  const now = Date.now();
  const base = { lastCheck: now, responseTimeMs: now - startedAt };
  let failed: boolean;
  try {
    failed = replyFailed(plugin, reply);
  } catch (error) {
    return { status: 'unhealthy', message: (error as Error).message, ...base };
  }
  if (failed) {
    const message = preview(stringOr(reply.error, 'health check failed'), MAX_MESSAGE_CHARS);
    return { status: 'unhealthy', message, ...base };
  }
  const data = (reply.data ?? {}) as Record<string, unknown>;
  const status = HEALTH_STATES.has(data.status as HealthState)
    ? (data.status as HealthState)
    : 'healthy';
  const message =
    typeof data.message === 'string' ? preview(data.message, MAX_MESSAGE_CHARS) : undefined;
  const metadata = stringRecord(data.metadata);
  return {
    status,
    ...(message === undefined ? {} : { message }),
    ...base,
    ...(metadata === undefined ? {} : { metadata }),
  };
}

/** An `info` reply as {@link PluginInfo}; `name` falls back to the configured name. */
export function infoFromReply(plugin: string, reply: WireReply): PluginInfo {
  if (replyFailed(plugin, reply)) throw replyError(plugin, reply.error, reply.retryable === true);
  const data = (reply.data ?? {}) as Record<string, unknown>;
  const info: PluginInfo = { name: stringOr(data.name, plugin) };
  if (typeof data.version === 'string') info.version = data.version;
  if (typeof data.description === 'string') info.description = data.description;
  if (typeof data.author === 'string') info.author = data.author;
  if (Array.isArray(data.capabilities))
    info.capabilities = data.capabilities.filter((c): c is string => typeof c === 'string');
  const metadata = stringRecord(data.metadata);
  if (metadata !== undefined) info.metadata = metadata;
  return info;
}

/** Whole milliseconds left until `deadline` (never more than the host will wait); see {@link timeLeft}. */
export const msLeft = timeLeft;

/**
 * Finds the `request_id` in a sample of a JSON line that was too long to parse. The first match
 * in the head wins (the usual field order puts it first), else the last one in the tail.
 */
export function findRequestId(head: string, tail: string): string | undefined {
  const pattern = /"request_id"\s*:\s*("(?:[^"\\]|\\.)*")/g;
  const first = pattern.exec(head);
  if (first) return decodeJsonString(first[1]!);
  let last: RegExpExecArray | null = null;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(tail); m !== null; m = pattern.exec(tail)) last = m;
  return last ? decodeJsonString(last[1]!) : undefined;
}

function decodeJsonString(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

/** The reply's `retry_after_ms`: a non-negative number, else ignored. */
function retryAfter(reply: WireReply): number | undefined {
  const value: unknown = reply.retry_after_ms;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
