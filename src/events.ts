import type { ErrorCode, FailurePhase } from './errors.js';
import type { ReadinessReport } from './health/readiness.js';
import type { ReloadResult, ReloadStep } from './reload/apply.js';
import type { ConfigDiff } from './reload/diff.js';
import type { CircuitState, HealthState, PluginState } from './states.js';
import type { Logger } from './types.js';
import { asError } from './internal/errorMessage.js';

export type { CircuitState } from './states.js';

/** Payload of the circuit events. */
export interface CircuitEvent {
  plugin: string;
  from: CircuitState;
  to: CircuitState;
}

/** Every event the manager emits, with its payload. */
export interface ManagerEvents {
  /** A plugin moved between lifecycle states (pending → starting → ready | failed → … → closed). */
  'plugin-state': {
    plugin: string;
    from: PluginState;
    to: PluginState;
    error?: string | undefined;
  };
  /** A plugin was added, by `load()` or `register()`. */
  'plugin-added': { plugin: string; transport: string; group?: string | undefined };
  /** A plugin was removed and closed. */
  'plugin-removed': { plugin: string };
  /** One start attempt of a plugin failed (it may be tried again). */
  'startup-attempt-failed': { plugin: string; attempt: number; maxAttempts: number; error: string };
  /** A plugin's health state changed (healthy → degraded → unhealthy → offline, and back). */
  'health-change': {
    plugin: string;
    from: HealthState;
    to: HealthState;
    message?: string | undefined;
  };
  /** One health check of a plugin finished (metrics count them; the status may be unchanged). */
  'health-check': { plugin: string; status: HealthState; responseTimeMs: number };
  /** The manager became ready (see `readiness()`). */
  ready: { report: ReadinessReport };
  /** The manager stopped being ready (a required plugin failed, shutdown began). */
  unready: { report: ReadinessReport };
  'circuit-open': CircuitEvent;
  'circuit-half-open': CircuitEvent;
  'circuit-close': CircuitEvent;
  /**
   * Outlier detection took a member out of its group (`groups.<name>.outlierDetection`): it
   * failed `consecutiveFailures` attempts in a row. It serves only in panic mode for `durationMs`.
   */
  'outlier-ejected': {
    group: string;
    plugin: string;
    /** Times ejected (the multiplier of the ejection time). */
    ejections: number;
    durationMs: number;
    consecutiveFailures: number;
  };
  /** An ejected member's time is up: it takes calls again (seen at the group's next pick). */
  'outlier-returned': { group: string; plugin: string; ejections: number; ejectedForMs: number };
  /**
   * A failed attempt is about to be retried: `kind` `failover` is a free retry of a request
   * that was never sent (not counted in `retries` nor the budget), `retry` a counted one.
   */
  retry: {
    target: string;
    plugin: string;
    attempt: number;
    code: ErrorCode;
    phase?: FailurePhase | undefined;
    kind?: 'retry' | 'failover' | undefined;
  };
  /** A call was refused by the plugin's rate limiter. */
  'rate-limited': { plugin: string };
  /** A reload validated and is about to be applied. */
  'reload-start': { diff: ConfigDiff; source?: string | undefined };
  /** One plugin's step of a reload. */
  'reload-step': ReloadStep;
  /** A reload finished (some plugins may have been rolled back: see the result). */
  reload: { result: ReloadResult; source?: string | undefined };
  /** A reload was refused (invalid config): nothing changed. */
  'reload-failed': { error: Error; source?: string | undefined };
  /** Something went wrong in the background (a listener threw, a close failed, …). */
  error: { error: Error; context: string };
  /** Cluster mode: Redis became reachable, or not (limits then use this replica's share). */
  'cluster-redis': { state: 'ready' | 'down'; error?: string | undefined };
  /** Cluster mode: the number of live host replicas changed (seen at a heartbeat). */
  'cluster-replicas': { live: number; previous: number };
  /** Cluster mode: an announced instance joined or left a `cluster.members` group. */
  'cluster-member': { group: string; plugin: string; change: 'joined' | 'left' };
  /**
   * Cluster mode: the number of other replicas whose load view this replica combines changed
   * (one joined or aged out; 0 when Redis has been unreachable for `viewTtl`).
   */
  'cluster-view': { replicas: number; previous: number };
  /**
   * Cluster mode: another replica hinted that `plugin` failed (its breaker opened, or it was
   * ejected); this replica probes it now (a health check) and decides for itself.
   */
  'cluster-hint': { plugin: string; from: string };
  /** Discovery found a plugin, new or changed on disk (it is then applied like a reload). */
  'plugin-discovered': {
    plugin: string;
    /** The matched file or plugin folder. */
    path: string;
    directory: string;
    manifest?: string | undefined;
    transport: string;
    change: 'added' | 'changed';
  };
  /**
   * Discovery refused a plugin or a directory (unsafe, invalid manifest, name taken), or a
   * discovered binary failed its check before a spawn (`PLUGIN_1212`). Other plugins are unaffected.
   */
  'plugin-rejected': {
    plugin?: string | undefined;
    path: string;
    reason: string;
    code: ErrorCode;
  };
  /** One scan of the discovery directories finished. */
  'discovery-scan': { directories: string[]; found: number; rejected: number; durationMs: number };
  /** `shutdown()` finished. */
  shutdown: { abortedCalls: number };
}

/** A listener for event `K`. */
export type ManagerListener<K extends keyof ManagerEvents> = (event: ManagerEvents[K]) => void;

/**
 * A small typed event emitter. A listener that throws never breaks the caller: the error is
 * logged and re-emitted as an `error` event (an `error` listener that throws is only logged).
 */
export class TypedEvents {
  private readonly listeners = new Map<keyof ManagerEvents, Set<(event: never) => void>>();

  constructor(private readonly logger: Logger) {}

  on<K extends keyof ManagerEvents>(name: K, listener: ManagerListener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => this.off(name, listener);
  }

  off<K extends keyof ManagerEvents>(name: K, listener: ManagerListener<K>): void {
    const set = this.listeners.get(name);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) this.listeners.delete(name);
  }

  /** Whether anyone listens: lets hot paths skip building a payload nobody reads. */
  has(name: keyof ManagerEvents): boolean {
    return this.listeners.has(name);
  }

  emit<K extends keyof ManagerEvents>(name: K, event: ManagerEvents[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set] as ManagerListener<K>[]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ event: name, err: String(error) }, 'plugwire: event listener threw');
        if (name !== 'error') {
          this.emit('error', {
            error: asError(error),
            context: `listener of '${name}'`,
          });
        }
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
