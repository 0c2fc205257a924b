import { isApplicationError, isTransientError, redactSecrets } from '../errors.js';
import { answerHealth } from '../health/answer.js';
import type { HandlerTracing } from '../observe/sdkTracing.js';
import type { HealthStatus } from '../types.js';
import type { Handler, HandlerContext, ServeOptions } from './types.js';
import type { HandlerCall } from './HandlerCall.js';
import { errorMessage } from '../internal/errorMessage.js';

/** The outcome of one handler run, ready to be written into any transport's reply. */
export type HandlerOutcome<Resp> =
  | { ok: true; value: Resp }
  | { ok: false; error: string; retryable: boolean; application: boolean };

export type { IncomingCall } from './HandlerCall.js';

/**
 * Runs a handler for one request (`call` is its context: the host's deadline, the signal the
 * transport aborts), and turns whatever it does (returns, throws `applicationError`, throws
 * anything else, overruns) into a {@link HandlerOutcome}. Shared by every `serve*` so all
 * transports behave the same. No timer, controller or listener is created per request unless
 * the handler reads `ctx.signal` (then one controller).
 */
export async function runHandler<Req, Resp>(
  handler: Handler<Req, Resp>,
  request: Req,
  call: HandlerCall,
  tracing?: HandlerTracing,
): Promise<HandlerOutcome<Resp>> {
  const ctx: HandlerContext = call;
  try {
    const value =
      tracing === undefined
        ? await handler(request, ctx)
        : await tracing.tracer.withServerSpan(
            tracing.name,
            ctx.headers,
            () => handler(request, ctx),
            ctx.requestId,
          );
    return { ok: true, value };
  } catch (error) {
    const message = redactSecrets(errorMessage(error));
    if (isApplicationError(error))
      return { ok: false, error: message, retryable: false, application: true };
    return {
      ok: false,
      error: message || 'plugin handler failed',
      retryable: isTransientError(error),
      application: false,
    };
  } finally {
    call.finish();
  }
}

/** Runs the plugin's health function (or the default: healthy) and normalises its answer. */
export function runHealth(options: ServeOptions, signal: AbortSignal): Promise<HealthStatus> {
  return answerHealth(options.health, signal);
}
