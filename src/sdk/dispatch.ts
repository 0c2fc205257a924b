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
 *
 * A handler that returns a plain value (not a promise or other thenable) has its outcome
 * returned at once; otherwise a promise of it. Either way `call.finish()` has run when the
 * outcome is known, and the returned promise never rejects.
 */
export function runHandler<Req, Resp>(
  handler: Handler<Req, Resp>,
  request: Req,
  call: HandlerCall,
  tracing?: HandlerTracing,
): HandlerOutcome<Resp> | Promise<HandlerOutcome<Resp>> {
  const ctx: HandlerContext = call;
  let value: Resp | PromiseLike<Resp>;
  try {
    value =
      tracing === undefined
        ? handler(request, ctx)
        : tracing.tracer.withServerSpan(
            tracing.name,
            ctx.headers,
            () => handler(request, ctx),
            ctx.requestId,
          );
  } catch (error) {
    call.finish();
    return failed(error);
  }
  if (!isThenable(value)) {
    call.finish();
    return { ok: true, value };
  }
  // As `await` would: a foreign thenable is adopted through a native promise.
  return (value instanceof Promise ? value : Promise.resolve(value)).then(
    (resolved: Resp) => {
      call.finish();
      return { ok: true, value: resolved };
    },
    (error: unknown) => {
      call.finish();
      return failed(error);
    },
  );
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function failed(error: unknown): HandlerOutcome<never> {
  const message = redactSecrets(errorMessage(error));
  if (isApplicationError(error))
    return { ok: false, error: message, retryable: false, application: true };
  return {
    ok: false,
    error: message || 'plugin handler failed',
    retryable: isTransientError(error),
    application: false,
  };
}

/** Runs the plugin's health function (or the default: healthy) and normalises its answer. */
export function runHealth(options: ServeOptions, signal: AbortSignal): Promise<HealthStatus> {
  return answerHealth(options.health, signal);
}
