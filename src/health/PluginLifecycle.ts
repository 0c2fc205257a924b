import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, PluginError, redactSecrets } from '../errors.js';
import { raceSignal } from '../internal/raceSignal.js';
import type { PluginSlot, PluginState } from '../pipeline/PluginSlot.js';
import type { HealthStatus, Logger } from '../types.js';
import { HealthChecker, healthTarget } from './HealthChecker.js';

/** Why a stopped lifecycle's signal aborted. */
const STOPPED = new Error('the plugin is being stopped');

/** What a lifecycle reports to the manager. */
export interface LifecycleHooks {
  setState(slot: PluginSlot, to: PluginState, error?: string): void;
  attemptFailed(slot: PluginSlot, attempt: number, error: string): void;
  healthChanged(slot: PluginSlot, status: HealthStatus, previous: HealthStatus): void;
  healthChecked(slot: PluginSlot, status: HealthStatus): void;
  logger: Logger;
}

/**
 * Brings one plugin up and keeps an eye on it: startup attempts with backoff, its health
 * checker, and recovery of a plugin whose startup attempts ran out.
 *
 * An attempt is `plugin.start()` plus a first successful health check (when health checks are
 * enabled), within `startup.timeout`. After `startup.maxAttempts` failed attempts the plugin is
 * `failed`, which readiness counts as "finished trying"; the attempts then go on in the
 * background at `startup.maxInterval`, so a plugin whose endpoint appears later becomes ready
 * without a restart of the manager. It is never dropped and never assumed healthy.
 */
export class PluginLifecycle {
  readonly checker: HealthChecker;
  private readonly controller = new AbortController();

  constructor(
    private readonly slot: PluginSlot,
    private readonly hooks: LifecycleHooks,
  ) {
    this.checker = new HealthChecker(healthTarget(slot.plugin), slot.config.healthCheck, {
      logger: hooks.logger,
      onCheck: (status) => {
        slot.health = status;
        hooks.healthChecked(slot, status);
      },
      onChange: (status, previous) => {
        slot.health = status;
        hooks.healthChanged(slot, status, previous);
      },
    });
    slot.health = this.checker.status;
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
    for (let attempt = 1; !signal.aborted; attempt++) {
      // Read each time: a reload may change the startup policy of a plugin still retrying.
      const { startup } = slot.config;
      slot.startAttempts = attempt;
      try {
        await this.attempt(signal);
        if (signal.aborted) break; // stopped while the attempt finished: not ready after all
        slot.lastError = undefined;
        hooks.setState(slot, 'ready');
        this.checker.start();
        return settled();
      } catch (error) {
        if (signal.aborted) break;
        slot.lastError = redactSecrets(error instanceof Error ? error.message : String(error));
        hooks.attemptFailed(slot, attempt, slot.lastError);
      }
      if (attempt === startup.maxAttempts) {
        hooks.setState(slot, 'failed', slot.lastError);
        settled();
      }
      const background = attempt >= startup.maxAttempts;
      const wait = background ? startup.maxInterval : delay;
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

  /** One attempt: start, then a first successful health check, within `startup.timeout`. */
  private async attempt(stopped: AbortSignal): Promise<void> {
    const { slot } = this;
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
