import type { ManagerConfig, PluginConfig, RetryBudgetConfig } from '../config/types.js';
import { ErrorCode, PluginError, redactSecrets } from '../errors.js';
import type { TypedEvents } from '../events.js';
import { PluginLifecycle } from '../health/PluginLifecycle.js';
import type { ReadinessTracker } from '../health/readiness.js';
import { asError } from '../internal/errorMessage.js';
import { settlesWithin } from '../internal/timeout.js';
import { breakerEvents, lifecycleEvents } from '../observe/lifecycleEvents.js';
import type { ConfigDiff } from '../reload/diff.js';
import type { ReloadRuntime } from '../reload/apply.js';
import type { PluginState } from '../states.js';
import type { Logger, Plugin } from '../types.js';
import type { InflightCall } from './Call.js';
import type { Deadlines } from './Deadlines.js';
import { PluginSlot, type ClusterLimits } from './PluginSlot.js';
import type { Targets } from './Targets.js';

/** What the registry needs from the manager around it. */
export interface SlotRegistryHost {
  readonly events: TypedEvents;
  readonly logger: Logger;
  readonly readiness: ReadinessTracker;
  /** Lists the calls in flight (every one of them is watched by the deadlines). */
  readonly deadlines: Deadlines;
  /** Creates the plugin for a validated config (its transport's factory). */
  instantiate(config: PluginConfig): Plugin;
  /** The retry budget new slots start with, and where cluster-scope limiters come from. */
  slotSettings(): { retryBudget: RetryBudgetConfig; cluster: ClusterLimits | undefined };
  /** Whether `shutdown()` has begun. */
  closing(): boolean;
  /** Throws the manager's "shut down" error once `shutdown()` has begun. */
  assertOpen(): void;
}

/**
 * The plugins at run time: the slots routed under their names and groups, and those the manager
 * owns without routing them (a reload's new instance not swapped in yet, a removed or replaced
 * one still draining). It starts, drains and closes them, keeps readiness told of each change,
 * and is what a reload drives ({@link SlotRegistry.reloadRuntime}).
 */
export class SlotRegistry {
  private readonly unrouted = new Set<PluginSlot>();
  private readonly closingSlots = new Set<PluginSlot>();
  private readonly hooks;
  private readonly onBreakerTransition;

  constructor(
    readonly targets: Targets,
    private readonly host: SlotRegistryHost,
  ) {
    this.hooks = lifecycleEvents(host.events, host.logger, this);
    this.onBreakerTransition = breakerEvents(host.events, host.logger, (slot) =>
      host.slotSettings().cluster?.hint(slot.name),
    );
  }

  /** Every routed slot. */
  plugins(): IterableIterator<PluginSlot> {
    return this.targets.plugins();
  }

  /** A slot for `plugin`, supervised, not routed yet. */
  newSlot(plugin: Plugin, config: PluginConfig): PluginSlot {
    const { retryBudget, cluster } = this.host.slotSettings();
    const slot = new PluginSlot(plugin, config, retryBudget, this.onBreakerTransition, cluster);
    const lifecycle = new PluginLifecycle(slot, this.hooks);
    slot.health = lifecycle.initialHealth;
    slot.lifecycle = lifecycle;
    return slot;
  }

  /** Routes new slots under their names (and groups), each group rebuilt once. */
  add(slots: PluginSlot[]): PluginSlot[] {
    this.targets.addAll(slots);
    for (const slot of slots) {
      this.refreshReadiness(slot);
      const { config } = slot;
      this.host.events.emit('plugin-added', {
        plugin: config.name,
        transport: config.transport,
        group: config.group,
      });
    }
    return slots;
  }

  /** Stops routing to `slot`: its name, its group, the initial set. */
  remove(slot: PluginSlot): void {
    if (!this.targets.remove(slot)) return;
    this.host.readiness.forget(slot.name);
    this.host.readiness.remove(slot.name);
    if (!this.host.closing()) this.unrouted.add(slot); // until it is closed
  }

  async start(slot: PluginSlot): Promise<void> {
    // A disabled plugin is not started (readiness counts it as done); calls get PLUGIN_1202.
    if (slot.config.enabled) await slot.lifecycle!.start();
  }

  /** Turns a plugin on or off without closing it; a plugin never started is started. */
  async setEnabled(slot: PluginSlot, enabled: boolean): Promise<void> {
    if (slot.config.enabled === enabled) return;
    slot.config = { ...slot.config, enabled };
    this.refreshReadiness(slot);
    if (enabled && slot.state === 'pending') await this.start(slot);
  }

  /** Readiness reads the plugins that run: a slot not routed under its name (yet) is not one. */
  refreshReadiness(slot: PluginSlot): void {
    if (this.targets.slot(slot.name) !== slot) return;
    this.host.readiness.set({
      name: slot.name,
      state: slot.state,
      health: slot.health,
      startAttempts: slot.startAttempts,
      maxAttempts: slot.config.startup.maxAttempts,
      lastError: slot.lastError,
      enabled: slot.config.enabled,
      healthChecks: slot.config.healthCheck.enabled,
    });
  }

  setState(slot: PluginSlot, to: PluginState, error?: string): void {
    // `closed` is final: a late step (a reload racing a shutdown) must not bring a slot back.
    if (slot.state === to || slot.state === 'closed') return;
    const from = slot.moveTo(to);
    this.host.events.emit('plugin-state', { plugin: slot.name, from, to, error });
    this.refreshReadiness(slot);
  }

  /**
   * Waits until no attempt runs on `slot`, or `timeoutMs`. Then the attempts still on it are
   * ended: `replaced` (a reload) interrupts them with a retryable error so that their calls go
   * on with the new instance; otherwise (removal) their calls fail.
   */
  async drain(slot: PluginSlot, timeoutMs: number, replaced = false): Promise<void> {
    if (timeoutMs > 0 && (await settlesWithin(slot.idle(), timeoutMs))) return;
    if (slot.counters.inFlight === 0) return;
    // One error per call: the pipeline stamps attempts and plugin on the error it settles with.
    const error = (): PluginError =>
      replaced
        ? new PluginError(ErrorCode.PluginRemoved, `Plugin '${slot.name}' is being replaced`, {
            plugin: slot.name,
            retryable: true,
          })
        : new PluginError(ErrorCode.PluginRemoved, `Plugin '${slot.name}' was removed`, {
            plugin: slot.name,
          });
    for (const call of this.callsInFlight()) {
      if (replaced) call.interrupt(slot, error());
      else if (call.currentPlugin === slot) call.abort(error());
    }
  }

  async close(slot: PluginSlot): Promise<void> {
    this.unrouted.delete(slot);
    if (slot.state === 'closed' || this.closingSlots.has(slot)) return;
    this.closingSlots.add(slot);
    slot.lifecycle?.stop();
    try {
      await slot.plugin.close();
    } catch (error) {
      const err = asError(error);
      this.host.logger.error(
        { plugin: slot.name, err: redactSecrets(err.message) },
        'plugwire: close failed',
      );
      this.host.events.emit('error', { error: err, context: `closing plugin '${slot.name}'` });
    }
    this.closingSlots.delete(slot);
    this.setState(slot, 'closed');
  }

  /** Removes a plugin: no new calls, calls in flight drained within `timeoutMs`, then closed. */
  async unregister(slot: PluginSlot, timeoutMs: number): Promise<void> {
    this.remove(slot);
    this.setState(slot, 'draining');
    await this.drain(slot, timeoutMs);
    await this.close(slot);
    this.host.events.emit('plugin-removed', { plugin: slot.name });
  }

  /** Shutdown, first step: every supervisor stops (no more starts, no more health checks). */
  stopSupervisors(): void {
    for (const slot of [...this.targets.plugins(), ...this.unrouted]) slot.lifecycle?.stop();
  }

  /** Shutdown, last step: every slot, routed or not, is closed. */
  async closeAll(): Promise<void> {
    const slots = [...this.targets.plugins(), ...this.unrouted];
    this.unrouted.clear();
    this.targets.clear();
    await Promise.all(slots.map((slot) => this.close(slot)));
  }

  /** The calls not settled yet: every one of them is watched by the deadlines. */
  callsInFlight(): InflightCall[] {
    return this.host.deadlines.entries() as unknown as InflightCall[];
  }

  /**
   * What a reload drives: the slots and their lifecycle. `settings` applies the manager-wide
   * settings of the new config.
   */
  reloadRuntime(settings: (next: ManagerConfig, diff: ConfigDiff) => void): ReloadRuntime {
    return {
      slot: (name) => this.targets.slot(name),
      create: (config) => {
        this.host.assertOpen();
        const slot = this.newSlot(this.host.instantiate(config), config);
        this.unrouted.add(slot);
        return slot;
      },
      add: (slot) => {
        this.unrouted.delete(slot);
        // A shutdown that began during the reload already closed everything routed: so this too.
        if (this.host.closing()) void this.close(slot);
        else this.add([slot]);
      },
      swap: (old, next) => {
        this.unrouted.delete(next);
        if (this.host.closing()) return void this.close(next);
        this.targets.swap(old, next);
        this.unrouted.add(old); // until it is drained and closed
        this.refreshReadiness(next);
      },
      remove: (slot) => {
        this.remove(slot);
        this.host.events.emit('plugin-removed', { plugin: slot.name });
      },
      start: (slot) => this.start(slot),
      drain: (slot, timeoutMs, replaced) => this.drain(slot, timeoutMs, replaced),
      retire: (slot) => this.setState(slot, 'draining'),
      close: (slot) => this.close(slot),
      configure: async (slot, config) => {
        const group = slot.config.group;
        slot.configure(config);
        this.targets.moved(slot, group);
        this.refreshReadiness(slot);
        if (config.enabled && slot.state === 'pending') await this.start(slot);
      },
      settings: (next, diff) => {
        settings(next, diff);
        for (const slot of this.targets.plugins()) slot.budget.configure(next.retryBudget);
      },
      step: (step) => this.host.events.emit('reload-step', step),
    };
  }
}
