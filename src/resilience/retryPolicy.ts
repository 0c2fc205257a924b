import { ErrorCode, type FailurePhase, type PluginError } from '../errors.js';

/**
 * What the pipeline does after a failed attempt:
 * - `failover`: try again at once on another instance (or reconnect), free: not counted against
 *   `retry.maxRetries` nor the retry budget, bounded only by the call's deadline (gRPC A6's
 *   transparent retry). Only safe when the request never left the host.
 * - `retry`: try again after the backoff (or the plugin's `Retry-After`), counted against
 *   `maxRetries` and the retry budget.
 * - `stop`: the call fails with this error.
 */
export type RetryVerdict = 'failover' | 'retry' | 'stop';

/** What a {@link RetryRule} is told about a failed attempt. */
export interface RetryFacts {
  /** The attempt's error: `code`, `phase`, `retryable`, `retryAfterMs`, `details`. */
  readonly error: PluginError;
  /** How far the attempt got (`error.phase`). */
  readonly phase: FailurePhase;
  /** The HTTP status of a `replied` failure over HTTP, if any. */
  readonly status: number | undefined;
  /** The gRPC status code of a `replied` failure over gRPC, if any. */
  readonly grpcCode: number | undefined;
  /** Whether the call may run twice (`ExecuteOptions.idempotent`, else the plugin's or group's). */
  readonly idempotent: boolean;
  /** The attempt that failed (1 = the first). */
  readonly attempt: number;
  /** Counted retries made so far (free failovers not included). */
  readonly retries: number;
  /** The execute target (plugin or group name). */
  readonly target: string;
  /** The plugin the attempt ran on. */
  readonly plugin: string | undefined;
  /** What plugwire's own table decides ({@link decideRetry}). */
  readonly suggested: RetryVerdict;
}

/**
 * A custom retry rule (`new Manager({ retryRule })`, or `ExecuteOptions.retryRule` for one
 * call), in the spirit of cockatiel's `handleWhen` and undici's `retry` option. It sees every
 * failed attempt and returns what to do, or undefined to keep `facts.suggested`. It cannot
 * exceed the call's deadline, `maxRetries` or the retry budget (those still bound `retry`), and
 * `failover` is only honoured for `not-sent` failures: a request that may have run is never
 * replayed for free. It must be fast and must not throw (a throw counts as `stop`).
 *
 * @example Retry 502s of a non-idempotent call too (the gateway did not forward it):
 * ```ts
 * const manager = new Manager({
 *   retryRule: (f) => (f.status === 502 ? 'retry' : undefined),
 * });
 * ```
 */
export type RetryRule = (facts: RetryFacts) => RetryVerdict | undefined;

// gRPC status codes that say "not processed": UNAVAILABLE, RESOURCE_EXHAUSTED.
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;

/** The HTTP status in a failure's details, if any. */
export function statusOf(error: PluginError): number | undefined {
  const status = error.details?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The gRPC status code in a failure's details, if any. */
export function grpcCodeOf(error: PluginError): number | undefined {
  const code = error.details?.grpcCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Whether a `replied` failure says the plugin did not process the request: HTTP 429 and 503,
 * gRPC UNAVAILABLE and RESOURCE_EXHAUSTED, or an envelope error marked `retryable: true`.
 */
export function notProcessed(error: PluginError): boolean {
  const status = statusOf(error);
  if (status !== undefined && error.code !== ErrorCode.PluginExecutionFailed) {
    return status === 429 || status === 503;
  }
  const grpcCode = grpcCodeOf(error);
  if (grpcCode !== undefined) {
    return grpcCode === GRPC_UNAVAILABLE || grpcCode === GRPC_RESOURCE_EXHAUSTED;
  }
  // The envelope's `retryable: true` (HTTP 2xx body, Unix/exec reply, in-process `retryable`).
  return error.code === ErrorCode.PluginExecutionFailed;
}

/**
 * plugwire's retry table (docs/resilience.md, "Retries"):
 *
 * | phase | decision |
 * |---|---|
 * | `not-sent`, retryable | `failover` (free, until the deadline) |
 * | `replied` "not processed" (429, 503, UNAVAILABLE, RESOURCE_EXHAUSTED, envelope `retryable: true`) | `retry` |
 * | `replied` other retryable (500, 502, 504, …), `sent` retryable, `timeout` retryable | `retry` when idempotent, else `stop` |
 * | not retryable (application error, 4xx, breaker open, full queue, …), `aborted` | `stop` |
 */
export function decideRetry(error: PluginError, idempotent: boolean): RetryVerdict {
  if (!error.retryable || error.phase === 'aborted') return 'stop';
  // Retryable elsewhere, not here: waiting for a slot in the queue is what it refuses.
  if (error.code === ErrorCode.PluginQueueFull) return 'stop';
  switch (error.phase) {
    case 'not-sent':
      return 'failover';
    case 'replied':
      return notProcessed(error) || idempotent ? 'retry' : 'stop';
    default:
      return idempotent ? 'retry' : 'stop';
  }
}

/** {@link decideRetry}, then the user's rule within what is safe. */
export function verdictFor(
  error: PluginError,
  idempotent: boolean,
  rule: RetryRule | undefined,
  attempt: number,
  retries: number,
  target: string,
): RetryVerdict {
  const suggested = decideRetry(error, idempotent);
  if (rule === undefined) return suggested;
  let verdict: RetryVerdict | undefined;
  try {
    verdict = rule({
      error,
      phase: error.phase,
      status: statusOf(error),
      grpcCode: grpcCodeOf(error),
      idempotent,
      attempt,
      retries,
      target,
      plugin: error.plugin,
      suggested,
    });
  } catch {
    return 'stop';
  }
  if (verdict === undefined) return suggested;
  // Free replays only for requests that never left the host.
  if (verdict === 'failover' && error.phase !== 'not-sent') return 'retry';
  return verdict;
}
