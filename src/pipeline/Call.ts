import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, PluginError, annotateError, isPluginError } from '../errors.js';
import type { TypedEvents } from '../events.js';
import type { Counters } from '../observe/stats.js';
import type { Outcome } from '../observe/outcome.js';
import type { AttemptSpan, CallSpan, CallTracer } from '../observe/tracing.js';
import {
  attemptChannel,
  attemptSettled,
  callSettled,
  executeChannel,
  traceAttempt,
  traceCall,
  type AttemptMessage,
  type ExecuteMessage,
} from '../observe/diagnostics.js';
import { backoffMs } from '../resilience/backoff.js';
import { verdictFor, type RetryRule } from '../resilience/retryPolicy.js';
import type { HedgingConfig } from '../config/types.js';
import { PERMIT_DENIED, PERMIT_CLOSED } from '../resilience/breaker/CircuitBreaker.js';
import type { Cancellation, ExecuteOptions, ExecutionContext } from '../types.js';
import { raceSignal } from '../internal/raceSignal.js';
import { toPluginError } from './classify.js';
import type { Deadlines, Expiring, Lane } from './Deadlines.js';
import type { PluginSlot, Route, RouteRequest } from './PluginSlot.js';

/** What a call needs from the manager that runs it. */
export interface CallHost {
  readonly events: TypedEvents;
  /** Call-level counters of the whole manager. */
  readonly counters: Counters;
  /** Watches every call's deadline (one timer per timeout value); lists the calls in flight. */
  readonly deadlines: Deadlines;
  /** Traces calls when set; undefined (the default) costs one check per call. */
  readonly tracer: CallTracer | undefined;
  /** The manager's custom retry rule, if any (read only after a failure). */
  readonly retryRule?: RetryRule | undefined;
  /** Told when the last call in flight settles, so that a draining shutdown can finish. */
  onIdle(): void;
  /** The route a target name leads to now (a reload may have swapped it since the call began). */
  route(target: string): Route | undefined;
}

/** What the manager may do with a call still running. */
export interface InflightCall {
  /** The plugin the current attempt runs on, if any. */
  readonly currentPlugin: PluginSlot | undefined;
  /** Ends the call now with `error`. */
  abort(error: PluginError): void;
  /**
   * Ends the current attempt if it runs on `slot` (its signal fires with `error`), without
   * ending the call: a retryable `error` lets the call go on elsewhere (a reload's new instance).
   */
  interrupt(slot: PluginSlot, error: PluginError): void;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const NONE_TRIED: readonly PluginSlot[] = Object.freeze([]);

// How an attempt ended, for the breaker and the counters.
const SUCCESS = 0;
const FAILURE = 1;
const IGNORED = 2; // application error, caller abort, shutdown: the breaker must not count it

/**
 * One attempt of a call, and the {@link ExecutionContext} the plugin sees. The AbortSignal is
 * created only when the plugin reads it: in-memory plugins that never look pay nothing.
 */
class Attempt implements ExecutionContext, Cancellation {
  finished = false;
  aborted = false;
  reason: unknown = undefined;
  private controller: AbortController | undefined;
  // Abort listeners: one in a field (the common case: one transport), more in an array.
  private listener: (() => void) | undefined;
  private listeners: Array<() => void> | undefined;
  private tracedHeaders: Readonly<Record<string, string>> | undefined;
  /** Set when `plugwire:attempt` has subscribers (see observe/diagnostics.ts). */
  diag: AttemptMessage | undefined;

  constructor(
    private readonly call: Pick<Call<unknown, unknown>, 'deadline' | 'requestId' | 'options'>,
    private readonly route: Route,
    readonly slot: PluginSlot,
    private readonly permit: number,
    readonly attempt: number,
    private readonly trace: AttemptSpan | undefined,
    /** When the attempt began (`performance.now()`). */
    private readonly startedAt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
  get cancellation(): Cancellation {
    return this;
  }
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (this.listener === undefined) this.listener = listener;
    else (this.listeners ??= []).push(listener);
  }
  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
    else if (this.listeners !== undefined) {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    }
  }
  get deadline(): number {
    return this.call.deadline;
  }
  get requestId(): string {
    return this.call.requestId;
  }
  get operation(): string | undefined {
    return this.call.options?.operation;
  }
  get headers(): Readonly<Record<string, string>> {
    const own = this.call.options?.headers ?? EMPTY;
    if (this.trace === undefined) return own;
    return (this.tracedHeaders ??= { ...own, ...this.trace.headers });
  }
  get metadata(): Readonly<Record<string, string>> {
    return this.call.options?.metadata ?? EMPTY;
  }

  /**
   * Records the outcome once: breaker, in-flight and per-plugin counters. `now`: the clock read
   * the caller already made (the call's own settling reads it once for both).
   */
  finish(outcome: number, error?: PluginError, now = performance.now()): void {
    if (this.finished) return;
    this.finished = true;
    if (this.trace !== undefined) this.trace.end(attemptOutcome(outcome, error), error);
    if (this.diag !== undefined) attemptSettled(this.diag, attemptOutcome(outcome, error), error);
    const slot = this.slot;
    const counters = slot.counters;
    slot.attemptEnded();
    counters.total++;
    const elapsed = now - this.startedAt;
    counters.latency.record(elapsed);
    const breaker = slot.breaker;
    const route = this.route;
    if (outcome === SUCCESS) {
      counters.success++;
      breaker?.onSuccess(this.permit);
      route.observe?.(slot, this.operation, elapsed, true);
      return;
    }
    if (outcome === FAILURE) {
      counters.failure++;
      if (error?.code === ErrorCode.PluginTimeout) counters.timeout++;
      breaker?.onFailure(this.permit);
      route.observe?.(slot, this.operation, elapsed, false);
    } else {
      breaker?.onIgnored(this.permit);
      if (error?.code === ErrorCode.ApplicationError) {
        counters.applicationError++;
        route.observe?.(slot, this.operation, elapsed, true);
      } else {
        counters.aborted++;
      }
    }
    if (error !== undefined) counters.countCode(error.code);
  }

  /** The call ended while this attempt was still running: account for it and tell the plugin. */
  abandon(reason: PluginError, outcome: number): void {
    this.finish(outcome, reason);
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const first = this.listener;
    const rest = this.listeners;
    this.listener = this.listeners = undefined;
    first?.();
    if (rest !== undefined) for (const listener of rest) listener();
  }
}

/** Refusals by plugwire's own guards, which end a failover with the failure that led to it. */
const REFUSALS: ReadonlySet<string> = new Set([
  ErrorCode.CircuitBreakerOpen,
  ErrorCode.NoAvailablePlugins,
]);

/**
 * One `execute()` call: a single deadline over every attempt, the caller's signal, retries.
 *
 * The success path stays off the retry machinery: the first attempt runs directly, and the retry
 * loop ({@link Call.retryAfter}, deciding by resilience/retryPolicy.ts, waiting by
 * resilience/backoff.ts) is entered only after a failure. Every call settles exactly once: the `settled` flag guards the
 * four ways to end (response, failure, deadline, caller abort / shutdown).
 */
export class Call<Req, Resp> implements InflightCall, RouteRequest, Expiring {
  /** When the call expires, on the monotonic `performance.now()` clock. */
  readonly expiresAt: number;
  prevDue: Expiring | undefined;
  nextDue: Expiring | undefined;
  private readonly timeoutMs: number;
  private readonly startedAt = performance.now();
  private lane: Lane | undefined;
  private settled = false;
  private attempts = 0;
  private current: Attempt | undefined;
  private controller: AbortController | undefined;
  private requestIdValue: string | undefined;
  private triedSlots: PluginSlot[] | undefined;
  /** Every attempt of a hedged call (undefined for the others). */
  private racing: Attempt[] | undefined;
  private span: CallSpan | undefined;
  /** Set when `plugwire:execute` has subscribers (see observe/diagnostics.ts). */
  diag: ExecuteMessage | undefined;
  private resolve!: (value: Resp) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly host: CallHost,
    private route: Route,
    private readonly request: Req,
    readonly options: ExecuteOptions | undefined,
  ) {
    const requested = options?.timeoutMs;
    this.timeoutMs =
      requested !== undefined && requested < route.requestTimeout
        ? requested
        : route.requestTimeout;
    this.expiresAt = this.startedAt + this.timeoutMs;
  }

  /**
   * The deadline as an epoch time (what the plugin sees); derived from {@link expiresAt} and
   * rounded down, so that it is never later than the call's own timer.
   */
  get deadline(): number {
    return Math.floor(performance.timeOrigin + this.expiresAt);
  }

  get key(): string | undefined {
    return this.options?.key;
  }

  get operation(): string | undefined {
    return this.options?.operation;
  }

  /** Instances tried so far (RouteRequest): empty until the first retry. */
  get tried(): readonly PluginSlot[] {
    return this.triedSlots ?? NONE_TRIED;
  }

  /** The plugin an attempt is running on now, if any (not one that already ended). */
  get currentPlugin(): PluginSlot | undefined {
    const attempt = this.current;
    return attempt === undefined || attempt.finished ? undefined : attempt.slot;
  }

  get requestId(): string {
    return (this.requestIdValue ??= this.options?.requestId ?? randomUUID());
  }

  /** Starts the call; the promise settles exactly once. */
  run(): Promise<Resp> {
    return executeChannel.hasSubscribers
      ? traceCall(this.route.name, this, this.begin)
      : this.begin();
  }

  private begin(): Promise<Resp> {
    const promise = new Promise<Resp>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.host.counters.inFlight++;
    const signal = this.options?.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.fail(this.abortedError(signal.reason));
        return promise;
      }
      signal.addEventListener('abort', this);
    }
    const tracer = this.host.tracer;
    if (tracer !== undefined) this.span = tracer.startCall(this.route.name, this);
    this.lane = this.host.deadlines.watch(this, this.timeoutMs);
    this.route.budget.recordCall();
    this.start();
    return promise;
  }

  /** The caller's signal fired (EventListenerObject: no closure per call). */
  handleEvent(): void {
    const error = this.abortedError(this.options?.signal?.reason);
    this.current?.abandon(error, IGNORED);
    this.abandonRacing(error);
    this.fail(error);
  }

  /** Ends the call now (shutdown gave up waiting for it). */
  abort(error: PluginError): void {
    this.current?.abandon(error, IGNORED);
    this.abandonRacing(error);
    this.fail(error);
  }

  interrupt(slot: PluginSlot, error: PluginError): void {
    const attempt = this.current;
    if (attempt !== undefined && attempt.slot === slot && !attempt.finished) {
      attempt.abandon(error, IGNORED);
    }
  }

  /** @internal the call's deadline passed (its lane has already let go of it). */
  expire(): void {
    this.lane = undefined;
    if (this.settled) return;
    const plugin = this.current?.slot.name ?? this.route.name;
    const error = new PluginError(
      ErrorCode.PluginTimeout,
      `Plugin '${plugin}' did not answer within ${this.timeoutMs} ms (attempt ${this.attempts})`,
      { plugin, attempts: this.attempts, retryable: true },
    );
    this.current?.abandon(error, FAILURE);
    this.abandonRacing(error, FAILURE);
    this.fail(error);
  }

  /**
   * The first attempt. The common case (a plugin picked in this tick, no rate limit to wait on,
   * no diagnostics subscriber) runs without an async frame: guards taken now, the plugin called,
   * one reaction on what it returns. The rest goes through {@link attemptOnce}.
   */
  private start(): void {
    const hedging = this.route.hedging;
    if (hedging !== undefined && this.idempotent) {
      void this.runHedged(hedging);
      return;
    }
    this.attempts = 1;
    let attempt: Attempt | undefined;
    let pending: unknown;
    try {
      const slot = this.route.pick(this);
      if (slot === undefined || slot.limiter !== undefined || attemptChannel.hasSubscribers) {
        void this.startSlowly(slot);
        return;
      }
      attempt = this.launch(slot, 1, this.startedAt);
      pending = slot.plugin.execute(this.request, attempt);
    } catch (error) {
      // A refusal (full queue, open breaker) or a plugin that threw: settled a microtask later,
      // as a rejection, never inside the caller's execute().
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (response) => {
        try {
          const now = performance.now();
          attempt!.finish(SUCCESS, undefined, now);
          this.succeed(response as Resp, now);
        } catch (error) {
          // A balancer strategy's hook threw after the plugin answered: the call ends with it.
          this.fail(error);
        }
      },
      (error: unknown) => {
        if (attempt === undefined) return this.afterFirst(error);
        let failure: PluginError;
        try {
          failure = this.attemptFailed(attempt, error);
        } catch (hookError) {
          return this.fail(hookError);
        }
        void this.retryAfter(failure);
      },
    );
  }

  /**
   * After a first attempt that threw: a PluginError (the plugin's failure, a refusal) goes to
   * the retry policy; anything else (a balancer or hook that threw) ends the call, never retried
   * on its account.
   */
  private afterFirst(thrown: unknown): void {
    if (isPluginError(thrown)) void this.retryAfter(thrown);
    else this.fail(thrown);
  }

  /** The first attempt when it may wait (a starting plugin, a rate-limit token) or is traced. */
  private async startSlowly(picked: PluginSlot | undefined): Promise<void> {
    let response: Resp;
    try {
      response = await this.attemptOnce(1, picked);
    } catch (error) {
      return this.afterFirst(error);
    }
    this.succeed(response);
  }

  /** Whether this call may run twice: `ExecuteOptions.idempotent`, else the target's. */
  private get idempotent(): boolean {
    return this.options?.idempotent ?? this.route.idempotent;
  }

  /**
   * After a failed attempt: asks the retry policy (resilience/retryPolicy.ts) what to do, then
   * fails over (free), retries (counted, after a backoff or the plugin's `Retry-After`) or
   * fails, until an attempt succeeds or the policy stops. Off the success path.
   */
  private async retryAfter(first: PluginError): Promise<void> {
    let error = first;
    let retries = 0;
    // Not-sent failures in a row: once every instance had one, failovers back off too.
    let unsent = 0;
    const idempotent = this.idempotent;
    const rule = this.options?.retryRule ?? this.host.retryRule;
    for (;;) {
      if (this.settled) return;
      const verdict = verdictFor(error, idempotent, rule, this.attempts, retries, this.route.name);
      if (verdict === 'stop') return this.fail(error);
      const retry = this.route.retry;
      let delay: number;
      if (verdict === 'failover') {
        unsent++;
        const instances = this.route.members?.length ?? 1;
        delay =
          unsent <= instances
            ? 0
            : Math.max(FAILOVER_FLOOR_MS, backoffMs(retry, unsent - instances - 1));
        if (performance.now() + delay >= this.expiresAt) return this.fail(error);
        // A lone plugin whose breaker this failure opened: nothing to fail over to.
        const breaker = this.route.members === undefined ? this.current?.slot.breaker : undefined;
        if (breaker !== undefined && !breaker.canAcquire()) return this.fail(error);
        this.countRetry(error, 'failover');
      } else {
        unsent = 0;
        if (retries >= retry.maxRetries) return this.fail(error);
        delay = backoffMs(retry, retries);
        const hint = error.retryAfterMs;
        if (hint !== undefined && hint > delay) delay = hint;
        // Never start a retry that cannot finish before the deadline.
        if (this.expiresAt - performance.now() <= delay + 1) return this.fail(error);
        if (!this.route.budget.tryWithdraw()) return this.fail(error);
        retries++;
        this.countRetry(error, 'retry');
      }
      if (delay > 0) {
        try {
          await sleep(delay, undefined, { signal: this.callSignal() });
        } catch {
          return; // the call ended while waiting
        }
      }
      try {
        const response = await this.attemptOnce(this.attempts + 1);
        this.succeed(response);
        return;
      } catch (thrown) {
        const next = this.asFailure(thrown);
        // A failover that our own guards refused (the breaker the failure just opened, no
        // member left) says less than the failure itself: the call ends with that.
        if (verdict === 'failover' && REFUSALS.has(next.code)) return this.fail(error);
        error = next;
      }
    }
  }

  private countRetry(error: PluginError, kind: 'retry' | 'failover'): void {
    const plugin = this.current?.slot;
    if (kind === 'retry') {
      if (plugin !== undefined) plugin.counters.retries++;
      this.host.counters.retries++;
    }
    if (this.host.events.has('retry')) {
      this.host.events.emit('retry', {
        target: this.route.name,
        plugin: plugin?.name ?? this.route.name,
        attempt: this.attempts + 1,
        code: error.code,
        phase: error.phase,
        kind,
      });
    }
  }

  /**
   * A hedged call (idempotent, on a group with `hedging`): the first attempt starts now; each
   * `hedging.delay` without a reply starts one more on a member not tried yet, up to
   * `maxHedges`, each paid with a retry-budget token. The first success wins and the other
   * attempts are abandoned (their signals abort, so transports cancel them). When every attempt
   * failed, the usual retry policy takes over from the last error.
   */
  private async runHedged(hedging: HedgingConfig): Promise<void> {
    const racing = new Set<Promise<HedgeResult<Resp>>>();
    const launch = (n: number): void => {
      const settled: Promise<HedgeResult<Resp>> = this.attemptOnce(n).then(
        (value) => ({ ok: true, value, error: undefined, settled }),
        (error: unknown) => ({ ok: false, value: undefined, error, settled }),
      );
      racing.add(settled);
    };
    this.racing = [];
    launch(1);
    let hedges = 0;
    let last: unknown;
    while (!this.settled && racing.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const candidates: Array<Promise<HedgeResult<Resp> | typeof HEDGE>> = [...racing];
      if (hedges < hedging.maxHedges) {
        candidates.push(
          new Promise((resolve) => {
            timer = setTimeout(resolve, hedging.delay, HEDGE);
          }),
        );
      }
      const next = await Promise.race(candidates);
      clearTimeout(timer);
      if (this.settled) return;
      if (next === HEDGE) {
        if (
          this.route.hasUntried?.(this.tried, this.current?.slot) === true &&
          this.route.budget.tryWithdraw()
        ) {
          hedges++;
          this.host.counters.retries++;
          launch(this.attempts + 1);
        } else {
          hedges = hedging.maxHedges; // no member or no budget left: wait for what runs
        }
        continue;
      }
      racing.delete(next.settled);
      if (next.ok) {
        this.abandonRacing(hedgeLost());
        this.succeed(next.value as Resp);
        return;
      }
      last = next.error;
    }
    if (this.settled) return;
    return this.retryAfter(this.asFailure(last));
  }

  /** Ends every attempt of a hedged call still running (the call is over). */
  private abandonRacing(reason: PluginError, outcome = IGNORED): void {
    const racing = this.racing;
    if (racing === undefined) return;
    for (const attempt of racing) if (!attempt.finished) attempt.abandon(reason, outcome);
  }

  /**
   * Attempt `n`: picks a plugin (unless the first attempt already did: `picked`), waits for it
   * to start or for a rate-limit token if it must, takes its guards and runs it.
   */
  private async attemptOnce(
    n: number,
    picked: PluginSlot | undefined | typeof PICK = PICK,
  ): Promise<Resp> {
    this.attempts = n;
    if (n > 1) {
      // A backoff timer that fired late (a busy event loop runs it before the deadline's own
      // timer) must not start an attempt past the deadline: the call times out here instead.
      if (performance.now() >= this.expiresAt && !this.settled) {
        this.lane?.remove(this);
        this.expire();
      }
      if (this.settled) {
        throw new PluginError(ErrorCode.PluginTimeout, 'the call has ended', { retryable: false });
      }
      if (this.current !== undefined) (this.triedSlots ??= []).push(this.current.slot);
      // A reload may have swapped the plugin since the first attempt: follow the name.
      this.route = this.host.route(this.route.name) ?? this.route;
    }
    // The first attempt usually starts in the call's own tick: then it needs no clock read.
    let startedAt = n === 1 ? this.startedAt : -1;
    let slot = picked === PICK ? this.route.pick(this) : picked;
    if (slot === undefined) {
      // Starting (initially, or the new instance of a reload): wait for it within the deadline.
      const started = this.route.starting?.();
      if (started !== undefined) {
        await raceSignal(started, this.callSignal(), () => this.route.unavailable(n));
        slot = this.route.pick(this);
        startedAt = -1;
      }
      if (slot === undefined) throw this.route.unavailable(n);
    }
    // A full queue fails fast (groups never pick a full member): no waiting out the deadline.
    if (slot.queueFull) throw this.queueFull(slot, n);
    if (slot.limiter !== undefined && !slot.limiter.tryTake()) {
      // An open breaker fails fast: no waiting for a token only to be refused after.
      if (slot.breaker !== undefined && !slot.breaker.canAcquire()) throw this.circuitOpen(slot, n);
      await this.waitForToken(slot);
      startedAt = -1;
    }
    const attempt = this.launch(slot, n, startedAt);
    let response: Resp;
    try {
      response = (await (attemptChannel.hasSubscribers
        ? traceAttempt(this.route.name, slot.plugin, slot.config.group, this.request, attempt)
        : slot.plugin.execute(this.request, attempt))) as Resp;
    } catch (error) {
      throw this.attemptFailed(attempt, error);
    }
    if (attempt.diag !== undefined) attempt.diag.result = response;
    attempt.finish(SUCCESS);
    return response;
  }

  /**
   * Opens attempt `n` on `slot` (`startedAt` < 0: now): refused at once when its queue is full
   * or its breaker open, else counted in flight from here.
   */
  private launch(slot: PluginSlot, n: number, startedAt: number): Attempt {
    if (slot.queueFull) throw this.queueFull(slot, n);
    const permit = slot.breaker === undefined ? PERMIT_CLOSED : slot.breaker.tryAcquire();
    if (permit === PERMIT_DENIED) throw this.circuitOpen(slot, n);
    const trace = this.span?.startAttempt(slot.name, slot.config.group, n);
    const attempt = new Attempt(
      this,
      this.route,
      slot,
      permit,
      n,
      trace,
      startedAt < 0 ? performance.now() : startedAt,
    );
    this.current = attempt;
    if (this.racing !== undefined) this.racing.push(attempt);
    slot.counters.inFlight++;
    return attempt;
  }

  /** `thrown` as a PluginError of this call's target. */
  private asFailure(thrown: unknown): PluginError {
    return isPluginError(thrown) ? thrown : toPluginError(thrown, this.route.name);
  }

  private circuitOpen(slot: PluginSlot, attempts: number): PluginError {
    slot.counters.circuitRejected++;
    return new PluginError(
      ErrorCode.CircuitBreakerOpen,
      `Circuit breaker of plugin '${slot.name}' is open: failing fast`,
      { plugin: slot.name, attempts, retryable: false, redacted: true },
    );
  }

  private queueFull(slot: PluginSlot, attempts: number): PluginError {
    slot.counters.queueRejected++;
    const { maxConnections, maxPending } = slot.config.connection;
    return new PluginError(
      ErrorCode.PluginQueueFull,
      `Plugin '${slot.name}' is overloaded: ${maxConnections + maxPending} calls in flight ` +
        `(connection.maxConnections ${maxConnections} + maxPending ${maxPending}); refused at once`,
      { plugin: slot.name, attempts, retryable: true, redacted: true },
    );
  }

  private attemptFailed(attempt: Attempt, thrown: unknown): PluginError {
    const error = toPluginError(thrown, attempt.slot.name);
    if (!attempt.finished) {
      attempt.finish(error.code === ErrorCode.ApplicationError ? IGNORED : FAILURE, error);
    }
    return error;
  }

  private async waitForToken(slot: PluginSlot): Promise<void> {
    const limiter = slot.limiter!;
    const maxWait = Math.min(slot.config.rateLimit.maxWait, this.expiresAt - performance.now());
    const wait = maxWait > 0 ? limiter.reserve(maxWait) : -1;
    if (wait < 0) {
      slot.counters.rateLimited++;
      if (this.host.events.has('rate-limited')) {
        this.host.events.emit('rate-limited', { plugin: slot.name });
      }
      throw new PluginError(
        ErrorCode.RateLimitExceeded,
        `Rate limit of plugin '${slot.name}' exceeded (${slot.config.rateLimit.requestsPerSecond}/s)`,
        { plugin: slot.name, attempts: this.attempts, retryable: false },
      );
    }
    if (wait === 0) return;
    try {
      await sleep(wait, undefined, { signal: this.callSignal() });
    } catch (error) {
      limiter.refund(); // the call ended while waiting: give the reserved token back
      throw error;
    }
  }

  private abortedError(reason: unknown): PluginError {
    return new PluginError(
      ErrorCode.CallAborted,
      `Call to '${this.route.name}' was aborted by the caller`,
      {
        plugin: this.current?.slot.name ?? this.route.name,
        attempts: this.attempts,
        retryable: false,
        cause: reason,
      },
    );
  }

  /** A signal that aborts when the call ends; only the slow paths (retry waits) need one. */
  private callSignal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  private succeed(response: Resp, now = performance.now()): void {
    if (this.settled) return;
    this.settle(now);
    this.host.counters.success++;
    this.span?.end();
    if (this.diag !== undefined) callSettled(this.diag, this.attempts, response, undefined);
    this.resolve(response);
  }

  private fail(thrown: unknown): void {
    if (this.settled) return;
    this.settle();
    const error = this.asFailure(thrown);
    annotateError(error, undefined, this.attempts);
    const counters = this.host.counters;
    switch (error.code) {
      case ErrorCode.ApplicationError:
        counters.applicationError++;
        break;
      case ErrorCode.CallAborted:
      case ErrorCode.ManagerClosed:
        counters.aborted++;
        break;
      case ErrorCode.PluginTimeout:
        counters.timeout++;
        counters.failure++;
        break;
      default:
        counters.failure++;
    }
    counters.countCode(error.code);
    this.span?.end(error);
    if (this.diag !== undefined) callSettled(this.diag, this.attempts, undefined, error);
    this.reject(error);
  }

  private settle(now = performance.now()): void {
    this.settled = true;
    this.lane?.remove(this);
    this.options?.signal?.removeEventListener('abort', this);
    this.controller?.abort();
    const host = this.host;
    const counters = host.counters;
    counters.total++;
    counters.latency.record(now - this.startedAt);
    if (--counters.inFlight === 0) host.onIdle();
  }
}

/** How one attempt of a hedged call ended. */
interface HedgeResult<Resp> {
  ok: boolean;
  value: Resp | undefined;
  error: unknown;
  /** The promise this result settled (to drop it from the race). */
  settled: Promise<HedgeResult<Resp>>;
}

// `attemptOnce` picks a plugin itself unless given the one the first attempt picked.
const PICK = Symbol('pick');

// The hedging timer's value in the race.
const HEDGE = Symbol('hedge');

// What the losing attempts of a hedged call are abandoned with (their signals abort with it).
function hedgeLost(): PluginError {
  return new PluginError(
    ErrorCode.CallAborted,
    'another attempt of this hedged call answered first',
    { retryable: false, phase: 'aborted' },
  );
}

// The shortest wait between failovers once every instance failed without sending: even with
// `initialInterval: 0`, a call never spins on a dead plugin without yielding to the event loop.
const FAILOVER_FLOOR_MS = 10;

function attemptOutcome(outcome: number, error: PluginError | undefined): Outcome {
  if (outcome === SUCCESS) return 'success';
  if (outcome === FAILURE) {
    return error?.code === ErrorCode.PluginTimeout ? 'timeout' : 'failure';
  }
  return error?.code === ErrorCode.ApplicationError ? 'application_error' : 'aborted';
}
