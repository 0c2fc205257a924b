import type { TypedEvents } from '../events.js';
import type { LifecycleHooks } from '../health/PluginLifecycle.js';
import type { PluginSlot } from '../pipeline/PluginSlot.js';
import type { CircuitState, PluginState } from '../states.js';
import type { Logger } from '../types.js';

/** Where the hooks record what they are told: the owner of the slots. */
export interface SlotRecorder {
  /** Moves a slot to a lifecycle state (and emits `plugin-state`). */
  setState(slot: PluginSlot, to: PluginState, error?: string): void;
  /** A slot's readiness inputs changed. */
  refreshReadiness(slot: PluginSlot): void;
}

/**
 * The event adapter of the lifecycle: what a plugin's supervisor reports (attempts, health) is
 * recorded on its slot and turned into the manager's events and log lines.
 */
export function lifecycleEvents(
  events: TypedEvents,
  logger: Logger,
  slots: SlotRecorder,
): LifecycleHooks<PluginSlot> {
  return {
    logger,
    setState: (slot, to, error) => slots.setState(slot, to, error),
    attemptStarted: (slot, attempt) => {
      slot.startAttempts = attempt;
    },
    attemptSucceeded: (slot) => {
      slot.lastError = undefined;
    },
    attemptFailed: (slot, attempt, error) => {
      slot.lastError = error;
      const { maxAttempts } = slot.config.startup;
      logger.warn(
        { plugin: slot.name, attempt, maxAttempts, err: error },
        `plugwire: start attempt of '${slot.name}' failed`,
      );
      events.emit('startup-attempt-failed', { plugin: slot.name, attempt, maxAttempts, error });
    },
    healthChanged: (slot, status, previous) => {
      slot.health = status;
      events.emit('health-change', {
        plugin: slot.name,
        from: previous.status,
        to: status.status,
        message: status.message,
      });
      slots.refreshReadiness(slot);
    },
    healthChecked: (slot, status) => {
      slot.health = status;
      if (!events.has('health-check')) return;
      events.emit('health-check', {
        plugin: slot.name,
        status: status.status,
        responseTimeMs: status.responseTimeMs,
      });
    },
  };
}

/** The event adapter of the breakers: each transition becomes a `circuit-*` event. */
export function breakerEvents(
  events: TypedEvents,
  logger: Logger,
  opened?: (slot: PluginSlot) => void,
): (slot: PluginSlot, from: CircuitState, to: CircuitState) => void {
  return (slot, from, to) => {
    const event = { plugin: slot.name, from, to };
    if (to === 'open') {
      logger.warn(event, `plugwire: circuit of '${slot.name}' opened`);
      events.emit('circuit-open', event);
      opened?.(slot);
    } else if (to === 'half-open') {
      events.emit('circuit-half-open', event);
    } else {
      logger.info(event, `plugwire: circuit of '${slot.name}' closed`);
      events.emit('circuit-close', event);
    }
  };
}
