import { toEnvelopeData } from '../../codec.js';
import { ErrorCode, PluginError, isPluginError } from '../../errors.js';
import type { Codec, ExecutionContext, HealthStatus, PluginInfo } from '../../types.js';
import type { Channel } from './Channel.js';
import type { ReplyReader } from './Correlator.js';
import { executeResult, healthFromReply, infoFromReply, msLeft } from './envelope.js';
import type { WireReply, WireRequest } from './envelope.js';
import { timeoutError } from './errors.js';
import { hasKeys } from '../../internal/records.js';
import { errorMessage } from '../../internal/errorMessage.js';

/**
 * The three calls a newline-JSON plugin answers, written once over a {@link Channel} and used by
 * both the Unix socket and the exec transports. One attempt each: retries belong to the manager.
 */

/**
 * Decodes the `execute` replies of one plugin. One per plugin, shared by all its calls: the
 * channel settles each call with the decoded value directly, with no extra promise per call.
 */
export class ExecuteReplies implements ReplyReader<WireReply, unknown> {
  constructor(
    readonly plugin: string,
    readonly codec: Codec,
  ) {}

  read(reply: WireReply): unknown {
    return executeResult(this.plugin, this.codec, reply);
  }
}

/**
 * Sends one `execute` and resolves with its decoded reply. Never throws: every failure is a
 * rejected promise.
 */
export function executeCall(
  channel: Channel,
  replies: ExecuteReplies,
  request: unknown,
  ctx: ExecutionContext,
): Promise<unknown> {
  const { plugin, codec } = replies;
  const timeoutMs = msLeft(ctx.deadline);
  if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.reject(timeoutError(plugin));
  let data: unknown;
  try {
    data = toEnvelopeData(codec, request);
  } catch (error) {
    return Promise.reject(
      new PluginError(
        ErrorCode.PluginExecutionFailed,
        `${plugin}: cannot encode the request with the ${codec.name} codec`,
        { plugin, retryable: false, cause: error, phase: 'not-sent' },
      ),
    );
  }
  // A retry keeps the caller's id readable but never collides with a late reply to attempt 1.
  const base = ctx.attempt > 1 ? `${ctx.requestId}/${ctx.attempt}` : ctx.requestId;
  const wire: WireRequest = {
    type: 'execute',
    request_id: channel.uniqueId(base),
    data,
    headers: ctx.headers,
    timeout_ms: timeoutMs,
    attempt: ctx.attempt,
  };
  if (hasKeys(ctx.metadata)) wire.metadata = ctx.metadata;
  return channel.request(wire, ctx.cancellation, replies);
}

/**
 * Sends one `health` and maps the answer. A failed link reads as `offline`, a check that ran out
 * of time as `unhealthy`: health never throws for the plugin's own state.
 */
export async function healthCall(channel: Channel, signal: AbortSignal): Promise<HealthStatus> {
  const started = Date.now();
  try {
    const reply = await channel.request(
      { type: 'health', request_id: channel.nextId('health') },
      signal,
    );
    return healthFromReply(channel.plugin, reply, started);
  } catch (error) {
    return healthFailure(error, started);
  }
}

/** The health status for a check that could not get an answer. */
export function healthFailure(error: unknown, started: number): HealthStatus {
  const now = Date.now();
  const offline =
    isPluginError(error) &&
    (error.code === ErrorCode.PluginConnectionFailed || error.code === ErrorCode.PluginClosed);
  return {
    status: offline ? 'offline' : 'unhealthy',
    message: errorMessage(error),
    lastCheck: now,
    responseTimeMs: now - started,
  };
}

/** Sends one `info`. */
export async function infoCall(
  channel: Channel,
  plugin: string,
  signal: AbortSignal | undefined,
): Promise<PluginInfo> {
  const reply = await channel.request({ type: 'info', request_id: channel.nextId('info') }, signal);
  return infoFromReply(plugin, reply);
}
