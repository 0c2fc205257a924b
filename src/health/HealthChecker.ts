import type { HealthCheckConfig } from '../config/types.js';
import { ErrorCode, PluginError, redactSecrets } from '../errors.js';
import { silentLogger } from '../observe/logger.js';
import type { HealthState, HealthStatus, Logger, Plugin } from '../types.js';
import { errorMessage } from '../internal/errorMessage.js';

/** What a {@link HealthChecker} checks: one plugin's health function. */
export interface HealthTarget {
  readonly name: string;
  /**
   * Runs one check. May resolve with any status (`unhealthy`/`offline` count as failures) or
   * reject; a synchronous throw means the check could not even be started.
   */
  check(signal: AbortSignal): Promise<HealthStatus>;
}

/** The timer functions and clocks a checker uses; tests inject their own. */
export interface HealthTimers {
  /** Schedules `callback`; the default unrefs the timer so that it never keeps a process alive. */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Wall-clock epoch ms: `HealthStatus.lastCheck` is a date. */
  now(): number;
  /** A number in [0, 1), for the jitter. */
  random(): number;
}

/** Options of the {@link HealthChecker} constructor. */
export interface HealthCheckerOptions {
  /** Called when the health state changes (healthy → degraded, …); not on every check. */
  onChange?: ((status: HealthStatus, previous: HealthStatus) => void) | undefined;
  /** Called after every check with its result (metrics count checks here). */
  onCheck?: ((status: HealthStatus) => void) | undefined;
  /** Where a callback that throws is reported. Silent by default. */
  logger?: Logger | undefined;
  timers?: Partial<HealthTimers> | undefined;
}

/** ±10%: checkers started together drift apart instead of hitting their plugins in step. */
export const HEALTH_JITTER = 0.1;
/** First retry delay of a check that could not run; doubles up to the interval. */
export const SETUP_RETRY_INITIAL_MS = 500;

const defaultTimers: HealthTimers = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
  now: Date.now,
  random: Math.random,
};

const UNKNOWN: HealthStatus = { status: 'unknown', lastCheck: 0, responseTimeMs: 0 };
const DISABLED: HealthStatus = { ...UNKNOWN, message: 'health checks are disabled' };
const STATES = new Set<string>(['unknown', 'healthy', 'degraded', 'unhealthy', 'offline']);

type Outcome =
  | { kind: 'answer'; status: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'stopped' };
const TIMEOUT: Outcome = { kind: 'timeout' };
const STOPPED: Outcome = { kind: 'stopped' };

/** A {@link HealthTarget} for a plugin: its `health()` method, called on the plugin. */
export function healthTarget(plugin: Pick<Plugin, 'name' | 'health'>): HealthTarget {
  return { name: plugin.name, check: (signal) => plugin.health(signal) };
}

/**
 * The health state after `failures` consecutive failed checks:
 *
 * - `failureLimit` consecutive failures → `offline`; so does a plugin that answers `offline` itself.
 * - the first failure after a good check (healthy or degraded) → `degraded`: one miss is a blip;
 * - any other failure below the limit → `unhealthy`: two misses in a row are a pattern, and a
 *   plugin that never passed a check is never given the benefit of the doubt; so is a plugin that
 *   answers `unhealthy` itself (the worse of the two signals wins).
 *
 * With the default `failureLimit` 3: healthy → degraded → unhealthy → offline.
 */
export function failureState(
  failures: number,
  failureLimit: number,
  previous: HealthState,
  claimed?: HealthState,
): HealthState {
  if (failures >= Math.max(1, failureLimit) || claimed === 'offline') return 'offline';
  if (claimed === 'unhealthy') return 'unhealthy';
  const wasGood = previous === 'healthy' || previous === 'degraded';
  return failures === 1 && wasGood ? 'degraded' : 'unhealthy';
}

/**
 * Checks one plugin's health every `interval` (±10% jitter), each check bounded by `timeout`.
 *
 * - A check that resolves `healthy` or `degraded` is a success: the state becomes what the plugin
 *   said, and the failure count starts again.
 * - A check that rejects, overruns its timeout (message `timeout`; its signal is aborted), or
 *   resolves `unhealthy`, `offline`, `unknown` or something that is not a status is a failure;
 *   see {@link failureState} for the state it leads to.
 * - A check that cannot even start (the target throws synchronously, e.g. its client cannot be
 *   built yet) is reported `unhealthy` with its error and retried with exponential backoff from
 *   500 ms up to the interval. It is never dropped and never read as healthy. These retries do
 *   not count toward `failureLimit` (they come faster than the interval, and would take the plugin
 *   offline sooner than `failureLimit × interval` promises); an offline plugin stays offline.
 *
 * Checks never overlap: the next one is scheduled when the previous one ends. {@link status} is
 * a plain field, replaced after each check, so readers never wait for a check.
 */
export class HealthChecker {
  /** The last result. Replaced (never mutated) after each check. */
  status: HealthStatus;
  /** Failed checks in a row (checks that could not start are not counted). */
  consecutiveFailures = 0;
  /** Why the last check failed; undefined after a success. */
  lastError: string | undefined;
  /** Checks that reached a result, including those that could not start. */
  checks = 0;

  private config: HealthCheckConfig;
  private readonly timers: HealthTimers;
  private readonly onChange: HealthCheckerOptions['onChange'];
  private readonly onCheck: HealthCheckerOptions['onCheck'];
  private readonly logger: Logger;
  private started = false;
  private stopped = false;
  private timer: unknown;
  private hasTimer = false;
  private inflight: Promise<HealthStatus> | undefined;
  private cancelRun: (() => void) | undefined;
  /** Checks in a row that could not start; drives the backoff. */
  private setupFailures = 0;

  constructor(
    private readonly target: HealthTarget,
    config: HealthCheckConfig,
    options: HealthCheckerOptions = {},
  ) {
    this.config = config;
    this.timers = { ...defaultTimers, ...options.timers };
    this.onChange = options.onChange;
    this.onCheck = options.onCheck;
    this.logger = options.logger ?? silentLogger;
    this.status = config.enabled ? UNKNOWN : DISABLED;
  }

  get name(): string {
    return this.target.name;
  }

  /** Whether a check is scheduled or running (for tests and shutdown checks). */
  get active(): boolean {
    return this.hasTimer || this.inflight !== undefined;
  }

  /**
   * Starts the periodic checks: the first one at once if none has run yet (else one interval
   * after the last), then every interval. Does nothing when checks are disabled (until
   * {@link update} enables them) or after {@link stop}.
   */
  start(): void {
    if (this.stopped || this.started) return;
    this.started = true;
    if (!this.config.enabled || this.inflight !== undefined) return; // a running check schedules
    if (this.checks === 0) void this.checkNow();
    else this.schedule();
  }

  /**
   * Runs a check now (the startup's first check) and resolves with the resulting status. A check
   * already running is joined, not duplicated; a scheduled one is replaced. Never rejects. When
   * checks are disabled or the checker is stopped, resolves with the current status at once.
   */
  checkNow(): Promise<HealthStatus> {
    if (this.stopped || !this.config.enabled) return Promise.resolve(this.status);
    if (this.inflight !== undefined) return this.inflight;
    this.clearTimer();
    const run = this.runOnce().then((status) => {
      this.inflight = undefined;
      if (this.started && !this.stopped && this.config.enabled) this.schedule();
      return status;
    });
    this.inflight = run;
    return run;
  }

  /**
   * Applies new timing (a reload). A scheduled check is rescheduled with the new interval;
   * disabling stops the checks (the state becomes `unknown`, "disabled"), enabling resumes them.
   */
  update(config: HealthCheckConfig): void {
    const wasEnabled = this.config.enabled;
    this.config = config;
    if (this.stopped) return;
    if (!config.enabled) {
      this.clearTimer();
      this.cancelRun?.();
      if (wasEnabled) {
        this.consecutiveFailures = 0;
        this.setupFailures = 0;
        this.lastError = undefined;
        this.publish(DISABLED);
      }
      return;
    }
    if (!wasEnabled) this.publish(UNKNOWN);
    if (!this.started || this.inflight !== undefined) return;
    if (wasEnabled) this.schedule();
    else void this.checkNow();
  }

  /** Stops for good: clears every timer and aborts a running check. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer();
    this.cancelRun?.();
  }

  private async runOnce(): Promise<HealthStatus> {
    const started = this.timers.now();
    const controller = new AbortController();
    let pending: Promise<HealthStatus>;
    try {
      pending = this.target.check(controller.signal);
    } catch (error) {
      return this.couldNotRun(error, started);
    }
    const outcome = await this.settle(pending, controller);
    if (outcome.kind === 'stopped') return this.status;
    const responseTimeMs = Math.max(0, this.timers.now() - started);
    if (outcome.kind === 'answer') {
      const answer = asStatus(outcome.status);
      if (answer === undefined) return this.failed('invalid health answer', responseTimeMs);
      if (answer.status === 'healthy' || answer.status === 'degraded') {
        return this.succeeded(answer, responseTimeMs);
      }
      const said = answer.message ?? `plugin reported ${answer.status}`;
      return this.failed(said, responseTimeMs, answer.status);
    }
    if (outcome.kind === 'timeout') return this.failed('timeout', responseTimeMs);
    return this.failed(messageOf(outcome.error), responseTimeMs);
  }

  /** Waits for the check, its timeout, or stop(); whichever comes first. */
  private settle(pending: Promise<HealthStatus>, controller: AbortController): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Outcome, reason?: PluginError): void => {
        if (settled) return;
        settled = true;
        this.timers.clearTimeout(timer);
        this.cancelRun = undefined;
        resolve(outcome);
        if (reason !== undefined) controller.abort(reason);
      };
      const plugin = this.target.name;
      const timer = this.timers.setTimeout(() => {
        const message = `Health check of '${plugin}' timed out after ${this.config.timeout} ms`;
        finish(
          TIMEOUT,
          new PluginError(ErrorCode.HealthCheckTimeout, message, { plugin, retryable: true }),
        );
      }, this.config.timeout);
      this.cancelRun = () =>
        finish(
          STOPPED,
          new PluginError(ErrorCode.HealthCheckFailed, `Health checks of '${plugin}' stopped`, {
            plugin,
          }),
        );
      // Promise.resolve also copes with a target that returns a plain value.
      Promise.resolve(pending).then(
        (status) => finish({ kind: 'answer', status }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
    });
  }

  private succeeded(answer: HealthStatus, responseTimeMs: number): HealthStatus {
    this.consecutiveFailures = 0;
    this.setupFailures = 0;
    this.lastError = undefined;
    return this.publish({
      status: answer.status,
      ...(answer.message === undefined ? {} : { message: redactSecrets(answer.message) }),
      lastCheck: this.timers.now(),
      responseTimeMs,
      ...(answer.metadata === undefined ? {} : { metadata: answer.metadata }),
    });
  }

  private failed(message: string, responseTimeMs: number, claimed?: HealthState): HealthStatus {
    this.setupFailures = 0;
    this.consecutiveFailures++;
    this.lastError = redactSecrets(message);
    const state = failureState(
      this.consecutiveFailures,
      this.config.failureLimit,
      this.status.status,
      claimed,
    );
    return this.publish({
      status: state,
      message: this.lastError,
      lastCheck: this.timers.now(),
      responseTimeMs,
    });
  }

  private couldNotRun(error: unknown, started: number): HealthStatus {
    this.setupFailures++;
    this.lastError = `health check could not run: ${messageOf(error)}`;
    return this.publish({
      status: this.status.status === 'offline' ? 'offline' : 'unhealthy',
      message: this.lastError,
      lastCheck: this.timers.now(),
      responseTimeMs: Math.max(0, this.timers.now() - started),
    });
  }

  private publish(next: HealthStatus): HealthStatus {
    const previous = this.status;
    this.status = next;
    if (next.lastCheck !== 0) {
      this.checks++;
      this.call('onCheck', () => this.onCheck?.(next));
    }
    if (next.status !== previous.status)
      this.call('onChange', () => this.onChange?.(next, previous));
    return next;
  }

  /** Callbacks must not stop the checks: a throw is logged and forgotten. */
  private call(what: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.logger.error(
        { plugin: this.target.name, err: messageOf(error) },
        `plugwire: health ${what} callback threw`,
      );
    }
  }

  private schedule(): void {
    this.clearTimer();
    const { interval } = this.config;
    const base =
      this.setupFailures > 0
        ? Math.min(interval, SETUP_RETRY_INITIAL_MS * 2 ** (this.setupFailures - 1))
        : interval;
    const jitter = 1 + HEALTH_JITTER * (2 * this.timers.random() - 1);
    this.hasTimer = true;
    this.timer = this.timers.setTimeout(
      () => {
        this.hasTimer = false;
        void this.checkNow();
      },
      Math.max(1, Math.round(base * jitter)),
    );
  }

  private clearTimer(): void {
    if (!this.hasTimer) return;
    this.hasTimer = false;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The answer as a status, or undefined when it is not one (a buggy custom plugin). */
function asStatus(value: unknown): HealthStatus | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const status = (value as { status?: unknown }).status;
  if (typeof status !== 'string' || !STATES.has(status)) return undefined;
  const answer = value as HealthStatus;
  return typeof answer.message === 'string' || answer.message === undefined
    ? answer
    : { ...answer, message: undefined };
}

function messageOf(error: unknown): string {
  return redactSecrets(errorMessage(error));
}
