import { isApplicationError, isTransientError, redactSecrets } from '../errors.js';
import { answerHealth } from '../health/answer.js';
import type { HandlerTracing } from '../observe/sdkTracing.js';
import type { HealthStatus } from '../types.js';
import type { Handler, HandlerContext, ServeOptions } from './types.js';

/** The outcome of one handler run, ready to be written into any transport's reply. */
export type HandlerOutcome<Resp> =
  | { ok: true; value: Resp }
  | { ok: false; error: string; retryable: boolean; application: boolean };

/** What a server knows about an incoming request, in transport-neutral form. */
export interface IncomingCall {
  requestId: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** Time the host allows, ms, relative to arrival; undefined when the host sent none. */
  timeoutMs: number | undefined;
  /** Aborts when the connection or stream carrying the request goes away. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs a handler for one request with the host's deadline turned into an AbortSignal, and turns
 * whatever it does (returns, throws `applicationError`, throws anything else, overruns) into a
 * {@link HandlerOutcome}. Shared by every `serve*` so all transports behave the same.
 */
export async function runHandler<Req, Resp>(
  handler: Handler<Req, Resp>,
  request: Req,
  call: IncomingCall,
  tracing?: HandlerTracing,
): Promise<HandlerOutcome<Resp>> {
  const controller = new AbortController();
  const deadline =
    call.timeoutMs !== undefined && call.timeoutMs > 0 ? Date.now() + call.timeoutMs : undefined;
  const timer =
    deadline === undefined
      ? undefined
      : setTimeout(() => controller.abort(new Error('deadline exceeded')), call.timeoutMs);
  const onUpstreamAbort = (): void => controller.abort(call.signal?.reason);
  call.signal?.addEventListener('abort', onUpstreamAbort, { once: true });
  const ctx: HandlerContext = {
    signal: controller.signal,
    deadline,
    requestId: call.requestId,
    headers: call.headers,
    metadata: call.metadata,
  };
  try {
    const value =
      tracing === undefined
        ? await handler(request, ctx)
        : await tracing.tracer.withServerSpan(
            tracing.name,
            call.headers,
            () => handler(request, ctx),
            call.requestId,
          );
    return { ok: true, value };
  } catch (error) {
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    if (isApplicationError(error))
      return { ok: false, error: message, retryable: false, application: true };
    return {
      ok: false,
      error: message || 'plugin handler failed',
      retryable: isTransientError(error),
      application: false,
    };
  } finally {
    if (timer) clearTimeout(timer);
    call.signal?.removeEventListener('abort', onUpstreamAbort);
  }
}

/** Runs the plugin's health function (or the default: healthy) and normalises its answer. */
export function runHealth(options: ServeOptions, signal: AbortSignal): Promise<HealthStatus> {
  return answerHealth(options.health, signal);
}
