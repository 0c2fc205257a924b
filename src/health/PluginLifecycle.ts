import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, PluginError, redactSecrets } from '../errors.js';
import { raceSignal } from '../internal/raceSignal.js';
import type { HealthCheckConfig, PluginConfig } from '../config/types.js';
import { errorMessage } from '../internal/errorMessage.js';
import type { PluginState } from '../states.js';
import type { HealthStatus, Logger, Plugin } from '../types.js';
import { HealthChecker, healthTarget } from './HealthChecker.js';

/** Why a stopped lifecycle's signal aborted. */
const STOPPED = new Error('the plugin is being stopped');

/** The plugin a lifecycle supervises. Its config is read each time: a reload may change it. */
export interface Supervised {
  readonly name: string;
  readonly plugin: Plugin;
  readonly config: PluginConfig;
}

/**
 * What a lifecycle reports, and to whom: it never writes into the plugin's runtime slot; the
 * owner of the slot records what it is told (and turns it into events).
 */
export interface LifecycleHooks<S extends Supervised = Supervised> {
  setState(subject: S, to: PluginState, error?: string): void;
  /** Start attempt `attempt` (1-based) begins. */
  attemptStarted(subject: S, attempt: number): void;
  /** An attempt failed with `error` (a redacted message); more may follow. */
  attemptFailed(subject: S, attempt: number, error: string): void;
  /** An attempt succeeded: the error of the previous one no longer stands. Before `ready`. */
  attemptSucceeded(subject: S): void;
  healthChanged(subject: S, status: HealthStatus, previous: HealthStatus): void;
  healthChecked(subject: S, status: HealthStatus): void;
  logger: Logger;
}

/**
 * Brings one plugin up and keeps an eye on it: startup attempts with backoff, its health
 * checker, and recovery of a plugin whose startup attempts ran out.
 *
 * An attempt is `plugin.start()` plus a first successful health check (when health checks are
 * enabled), within `startup.timeout`. After `startup.maxAttempts` failed attempts the plugin is
 * `failed`, which readiness counts as "finished trying"; the attempts then go on in the
 * background, so a plugin whose endpoint appears later becomes ready without a restart of the
 * manager. It is never dropped and never assumed healthy.
 *
 * How often the background attempts come depends on how the last one failed:
 * - its `start()` failed (nothing to connect to, the child would not spawn): every
 *   `startup.maxInterval`, with jitter;
 * - it started, and only its health check failed (a gRPC server answering NOT_SERVING, a health
 *   endpoint answering 503): every `healthCheck.interval` (when shorter). Such a plugin is up and
 *   watched like any other: it becomes ready at the first passing check, not up to a
 *   `maxInterval` later. Repeats of the same failure are reported (event, log) at most once per
 *   `startup.maxInterval`.
 */
export class PluginLifecycle<S extends Supervised = Supervised> {
  readonly checker: HealthChecker;
  private readonly controller = new AbortController();
  private lastError: string | undefined;
  /** Whether the last attempt's `start()` succeeded (then only its health check failed). */
  private started = false;

  constructor(
    private readonly slot: S,
    private readonly hooks: LifecycleHooks<S>,
  ) {
    this.checker = new HealthChecker(healthTarget(slot.plugin), slot.config.healthCheck, {
      logger: hooks.logger,
      onCheck: (status) => hooks.healthChecked(slot, status),
      onChange: (status, previous) => hooks.healthChanged(slot, status, previous),
    });
  }

  /** The health before any check: `unknown`, or the fixed status of a plugin not checked. */
  get initialHealth(): HealthStatus {
    return this.checker.status;
  }

  /** A reload changed the health-check settings of the live plugin. */
  healthCheckChanged(config: HealthCheckConfig): void {
    this.checker.update(config);
  }

  /** Runs one health check now, when health checks are on (a cluster hint). */
  probe(): void {
    void this.checker.checkNow();
  }

  /**
   * Starts the plugin. Resolves once it is ready or its first `maxAttempts` attempts have failed
   * (then the attempts go on in the background). Never rejects.
   */
  start(): Promise<void> {
    return new Promise<void>((settled) => void this.run(settled));
  }

  /** Stops the attempts and the health checks. Idempotent. */
  stop(): void {
    // A reason of our own: an abort without one builds a DOMException with a stack trace,
    // which was the largest cost of shutting down thousands of plugins.
    this.controller.abort(STOPPED);
    this.checker.stop();
  }

  private async run(settled: () => void): Promise<void> {
    const { slot, hooks } = this;
    const signal = this.controller.signal;
    hooks.setState(slot, 'starting');
    let delay = slot.config.startup.initialInterval;
    // The last failure reported in the background, and when (repeats are reported less often).
    let reported: string | undefined;
    let reportedAt = 0;
    for (let attempt = 1; !signal.aborted; attempt++) {
      // Read each time: a reload may change the startup policy of a plugin still retrying.
      const { startup } = slot.config;
      hooks.attemptStarted(slot, attempt);
      try {
        await this.attempt(signal);
        if (signal.aborted) break; // stopped while the attempt finished: not ready after all
        this.lastError = undefined;
        hooks.attemptSucceeded(slot);
        hooks.setState(slot, 'ready');
        this.checker.start();
        return settled();
      } catch (error) {
        if (signal.aborted) break;
        this.lastError = redactSecrets(errorMessage(error));
        const now = Date.now();
        const repeat =
          attempt > startup.maxAttempts &&
          this.lastError === reported &&
          now - reportedAt < startup.maxInterval;
        if (!repeat) {
          reported = this.lastError;
          reportedAt = now;
          hooks.attemptFailed(slot, attempt, this.lastError);
        }
      }
      if (attempt === startup.maxAttempts) {
        hooks.setState(slot, 'failed', this.lastError);
        settled();
      }
      const background = attempt >= startup.maxAttempts;
      const wait = background ? this.backgroundWait() : delay;
      delay = Math.min(delay * 2, startup.maxInterval);
      try {
        // ±20% jitter: plugins that failed together do not retry in step. While load() waits
        // for the first round, the timer keeps the process alive; background retries do not.
        await sleep(wait * (0.8 + Math.random() * 0.4), undefined, { signal, ref: !background });
      } catch {
        break; // stopped
      }
    }
    settled();
  }

  /**
   * The wait before the next background attempt: the health interval when the plugin started
   * and only its health check failed (its endpoint answers), else `startup.maxInterval`.
   */
  private backgroundWait(): number {
    const { startup, healthCheck } = this.slot.config;
    if (!this.started || !healthCheck.enabled) return startup.maxInterval;
    return Math.min(healthCheck.interval, startup.maxInterval);
  }

  /** One attempt: start, then a first successful health check, within `startup.timeout`. */
  private async attempt(stopped: AbortSignal): Promise<void> {
    const { slot } = this;
    this.started = false;
    const { startup, healthCheck } = slot.config;
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stopped.reason);
    stopped.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(() => {
      controller.abort(
        new PluginError(
          ErrorCode.PluginTimeout,
          `start of '${slot.name}' did not finish within ${startup.timeout} ms`,
          { plugin: slot.name, retryable: true },
        ),
      );
    }, startup.timeout);
    const signal = controller.signal;
    try {
      const start = slot.plugin.start?.(signal);
      if (start !== undefined) await raceSignal(start, signal, () => signal.reason);
      this.started = true;
      if (!healthCheck.enabled) return;
      const status = await raceSignal(this.checker.checkNow(), signal, () => signal.reason);
      if (status.status !== 'healthy' && status.status !== 'degraded') {
        throw new Error(
          `first health check: ${status.status}${status.message ? ` (${status.message})` : ''}`,
        );
      }
    } finally {
      clearTimeout(timer);
      stopped.removeEventListener('abort', onStop);
    }
  }
}
