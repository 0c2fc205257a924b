/**
 * Calls and attempts published on `node:diagnostics_channel`, so that APM agents and
 * OpenTelemetry instrumentations can trace plugwire without the host wiring a tracer.
 *
 * Two {@link TracingChannel}s, named like undici's (`undici:request:create`): `plugwire:execute`
 * (one `execute()` call, all its attempts) and `plugwire:attempt` (one try on one plugin). Each
 * gives the five tracing events on `tracing:<name>:start|end|asyncStart|asyncEnd|error`, with the
 * usual meaning of `tracePromise()`: `start` and `end` around the synchronous part (the work runs
 * inside `start.runStores()`, so a store bound to `start` is the active context of the transport's
 * own I/O), `error` when it fails, then `asyncStart`/`asyncEnd` once it settled, with `result` or
 * `error` set on the message.
 *
 * With nobody subscribed the pipeline checks `hasSubscribers` once per call and once per attempt
 * and builds nothing: bench/diagnostics.ts measures it.
 */
import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import type { PluginError } from '../errors.js';
import { outcomeOfCode, type Outcome } from './outcome.js';

/** The message of every `plugwire:execute` event: one `execute()` call. */
export interface ExecuteMessage {
  /** The plugin or group name given to `execute()`. */
  readonly target: string;
  /** The call's request id (the caller's, or a generated UUID); sent to the plugin. */
  readonly requestId: string;
  /** `ExecuteOptions.operation`, when given. */
  readonly operation: string | undefined;
  /** Attempts made; final once the call settled. */
  attempts: number;
  /** How the call ended; set before `asyncStart` (and before `error`). */
  outcome?: Outcome;
  /** The response, on success. */
  result?: unknown;
  /** The {@link PluginError} the call rejected with. */
  error?: PluginError;
}

/** The message of every `plugwire:attempt` event: one try of a call on one plugin. */
export interface AttemptMessage {
  /** The plugin or group name given to `execute()`. */
  readonly target: string;
  /** The plugin this attempt runs on. */
  readonly plugin: string;
  /** The plugin's group, if any. */
  readonly group: string | undefined;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  readonly requestId: string;
  /** How the attempt ended; set before `asyncStart` (and before `error`). */
  outcome?: Outcome;
  /** The plugin's response, on success. */
  result?: unknown;
  /** The {@link PluginError} the attempt failed with (classified, secrets redacted). */
  error?: PluginError;
}

/** `tracing:plugwire:execute:*`: one event set per `execute()` call. */
export const executeChannel: TracingChannel<unknown, ExecuteMessage> =
  tracingChannel('plugwire:execute');

/** `tracing:plugwire:attempt:*`: one event set per attempt of a call. */
export const attemptChannel: TracingChannel<unknown, AttemptMessage> =
  tracingChannel('plugwire:attempt');

/** What {@link traceCall} reads from a call. */
interface TracedCall {
  readonly requestId: string;
  readonly operation: string | undefined;
  diag: ExecuteMessage | undefined;
}

/**
 * Runs `begin` (the call's own start) as a traced call: publishes `start`, runs it inside
 * `start.runStores()`, publishes `end`. The call then reports how it ended ({@link callSettled}).
 * @internal
 */
export function traceCall<C extends TracedCall, R>(
  target: string,
  call: C,
  begin: (this: C) => R,
): R {
  const message: ExecuteMessage = {
    target,
    requestId: call.requestId,
    operation: call.operation,
    attempts: 0,
  };
  call.diag = message;
  try {
    return executeChannel.start.runStores(message, begin, call);
  } finally {
    executeChannel.end.publish(message);
  }
}

/** A traced call settled: `error` (when it failed), `asyncStart`, `asyncEnd`. @internal */
export function callSettled(
  message: ExecuteMessage,
  attempts: number,
  result: unknown,
  error: PluginError | undefined,
): void {
  message.attempts = attempts;
  if (error === undefined) {
    message.outcome = 'success';
    message.result = result;
  } else {
    message.outcome = outcomeOfCode(error.code);
    message.error = error;
    executeChannel.error.publish(message);
  }
  executeChannel.asyncStart.publish(message);
  executeChannel.asyncEnd.publish(message);
}

/** What {@link traceAttempt} reads from an attempt. */
interface TracedAttempt {
  readonly requestId: string;
  readonly attempt: number;
  diag: AttemptMessage | undefined;
}

/**
 * Calls `plugin.execute(request, attempt)` as a traced attempt (`start`, the call inside
 * `start.runStores()`, `end`). The attempt reports how it ended ({@link attemptSettled}) from the
 * one place that accounts for it, so an attempt abandoned at the deadline is reported once too.
 * @internal
 */
export function traceAttempt<R>(
  target: string,
  plugin: { readonly name: string; execute(request: never, ctx: never): R },
  group: string | undefined,
  request: unknown,
  attempt: TracedAttempt,
): R {
  const message: AttemptMessage = {
    target,
    plugin: plugin.name,
    group,
    attempt: attempt.attempt,
    requestId: attempt.requestId,
  };
  attempt.diag = message;
  try {
    return attemptChannel.start.runStores(
      message,
      plugin.execute as (this: unknown, request: unknown, ctx: unknown) => R,
      plugin,
      request,
      attempt,
    );
  } finally {
    attemptChannel.end.publish(message);
  }
}

/** A traced attempt ended: `error` (unless it succeeded), `asyncStart`, `asyncEnd`. @internal */
export function attemptSettled(
  message: AttemptMessage,
  outcome: Outcome,
  error: PluginError | undefined,
): void {
  message.outcome = outcome;
  if (error !== undefined && outcome !== 'success') {
    message.error = error;
    attemptChannel.error.publish(message);
  }
  attemptChannel.asyncStart.publish(message);
  attemptChannel.asyncEnd.publish(message);
}
