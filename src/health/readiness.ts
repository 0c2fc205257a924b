import type { ReadinessConfig, ReadinessPolicy } from '../config/types.js';
import type { HealthState, PluginState } from '../states.js';
import type { HealthStatus } from '../types.js';

/** What readiness needs to know about one plugin (a slot maps onto it field by field). */
export interface PluginReadinessInput {
  name: string;
  state: PluginState;
  health: HealthStatus;
  /** Start attempts made so far. */
  startAttempts: number;
  /** `startup.maxAttempts`. */
  maxAttempts: number;
  lastError?: string | undefined;
  /** A disabled plugin is never started: it counts as finished, never as ready. */
  enabled: boolean;
  /**
   * Whether the plugin's health checks run (`healthCheck.enabled`). When they do not, its
   * `unknown` health is no reason to wait under the `healthy` policy. Default true.
   */
  healthChecks?: boolean | undefined;
}

/** Everything {@link computeReadiness} decides from. */
export interface ReadinessInput {
  /** The locked initial set: the first load's plugin names. Undefined before the first load. */
  initial: ReadonlySet<string> | readonly string[] | undefined;
  /** Every plugin the manager holds now, initial and runtime. */
  plugins: Iterable<PluginReadinessInput>;
  config: ReadinessConfig;
  /**
   * Initial plugins that already finished their first startup. Such a plugin that goes back to
   * `starting` (a reload recreating it) does not send a ready manager back to "still starting".
   */
  settled?: ReadonlySet<string> | undefined;
  /** The manager is shutting down: never ready. */
  shuttingDown?: boolean | undefined;
}

/** Why the manager is (not) ready, as a stable word; safe to show anyone. */
export type ReadinessCode =
  'ready' | 'shutting-down' | 'not-loaded' | 'starting' | 'policy' | 'required';

/** A public summary of each {@link ReadinessCode}: no plugin names, endpoints or versions. */
export const READINESS_SUMMARY: Readonly<Record<ReadinessCode, string>> = {
  ready: 'ready',
  'shutting-down': 'shutting down',
  'not-loaded': 'no configuration loaded',
  starting: 'plugins still starting',
  policy: 'readiness policy not met',
  required: 'a required plugin is not available',
};

/** One plugin in a {@link ReadinessReport}. */
export interface PluginReadiness {
  state: PluginState;
  health: HealthState;
  enabled: boolean;
  attempts: number;
  maxAttempts: number;
  lastError: string | undefined;
}

/** The initial or the runtime plugins in a {@link ReadinessReport}. */
export interface PluginSetReadiness {
  total: number;
  /** In state `ready`. */
  ready: number;
  /** In state `failed` (startup attempts exhausted). */
  failed: number;
  /** Enabled and still `pending` or `starting`. */
  pending: number;
  plugins: Record<string, PluginReadiness>;
}

/** `manager.readiness()`: whether to send traffic here, and why. */
export interface ReadinessReport {
  ready: boolean;
  code: ReadinessCode;
  /** A sentence for operators; names plugins, so keep it off public endpoints. */
  reason: string;
  policy: ReadinessPolicy;
  initial: PluginSetReadiness;
  /** Plugins added after the first load: reported, never a reason to be unready. */
  runtime: PluginSetReadiness;
  /** Each required plugin: ready and not unhealthy/offline. */
  required: Record<string, boolean>;
}

const NAMES_SHOWN = 10;

/** Whether a plugin has finished its startup attempts (started, failed, or never to start). */
export function startupFinished(plugin: PluginReadinessInput): boolean {
  return !plugin.enabled || (plugin.state !== 'pending' && plugin.state !== 'starting');
}

/** A plugin that may take traffic: started, enabled, and not known to be broken. */
function available(plugin: PluginReadinessInput | undefined): boolean {
  return (
    plugin !== undefined &&
    plugin.enabled &&
    plugin.state === 'ready' &&
    plugin.health.status !== 'unhealthy' &&
    plugin.health.status !== 'offline'
  );
}

/** Ready and passing its health checks (or not checked at all, by configuration). */
function healthy(plugin: PluginReadinessInput): boolean {
  const { status } = plugin.health;
  return (
    plugin.state === 'ready' &&
    (status === 'healthy' ||
      status === 'degraded' ||
      (status === 'unknown' && plugin.healthChecks === false))
  );
}

/**
 * Decides readiness. Pure: same input, same report; O(plugins). {@link ReadinessTracker} decides
 * the same `ready` and code incrementally, and calls this only to build a report that is read.
 *
 * Ready only when, in this order:
 * 1. the manager is not shutting down, and a first load happened (the initial set is locked);
 * 2. every enabled initial plugin has finished its startup attempts (state is no longer
 *    `pending`/`starting`: started or failed after `maxAttempts`); a disabled one counts as
 *    finished. An initial name with no plugin in `plugins` is waited for: readiness never assumes;
 * 3. the policy holds: `attempted` — nothing more; `healthy` — every enabled initial plugin is
 *    ready and healthy or degraded; `{ minReady: n }` — at least n initial plugins are ready;
 * 4. every `required` plugin is ready and, once ready, not unhealthy or offline.
 *
 * Runtime plugins (added after the first load) never count, unless named in `required`.
 */
export function computeReadiness(input: ReadinessInput): ReadinessReport {
  const { config } = input;
  const initialNames = input.initial === undefined ? undefined : new Set(input.initial);
  const byName = new Map<string, PluginReadinessInput>();
  for (const plugin of input.plugins) byName.set(plugin.name, plugin);

  const initialList: PluginReadinessInput[] = [];
  const runtimeList: PluginReadinessInput[] = [];
  const missing: string[] = [];
  for (const name of initialNames ?? []) {
    const plugin = byName.get(name);
    if (plugin === undefined) missing.push(name);
    else initialList.push(plugin);
  }
  for (const plugin of byName.values()) {
    if (initialNames?.has(plugin.name) !== true) runtimeList.push(plugin);
  }

  const required: Record<string, boolean> = Object.fromEntries(
    config.required.map((name) => [name, available(byName.get(name))]),
  );
  const report = (ready: boolean, code: ReadinessCode, reason: string): ReadinessReport => ({
    ready,
    code,
    reason,
    policy: config.policy,
    initial: summarize(initialList, missing),
    runtime: summarize(runtimeList, []),
    required,
  });

  if (input.shuttingDown === true)
    return report(false, 'shutting-down', 'the manager is shutting down');
  if (initialNames === undefined) {
    return report(false, 'not-loaded', 'no configuration has been loaded yet');
  }

  const total = initialNames.size;
  const waiting = [
    ...missing,
    ...initialList
      .filter((p) => !startupFinished(p) && input.settled?.has(p.name) !== true)
      .map((p) => p.name),
  ];
  if (waiting.length > 0) {
    return report(
      false,
      'starting',
      `${waiting.length} of ${total} initial plugins still starting: ${list(waiting)}`,
    );
  }

  const policy = config.policy;
  let satisfied: string;
  if (policy === 'attempted') {
    satisfied = `all ${total} initial plugins finished starting`;
  } else if (policy === 'healthy') {
    const unwell = initialList.filter((p) => p.enabled && !healthy(p));
    if (unwell.length > 0) {
      const names = unwell.map((p) => `${p.name} (${p.state}, ${p.health.status})`);
      return report(
        false,
        'policy',
        `policy "healthy": ${unwell.length} initial plugins not ready and healthy: ${list(names)}`,
      );
    }
    satisfied = `all ${total} initial plugins ready and healthy`;
  } else {
    const ready = initialList.filter((p) => p.enabled && p.state === 'ready').length;
    if (ready < policy.minReady) {
      return report(
        false,
        'policy',
        `policy minReady ${policy.minReady}: only ${ready} of ${total} initial plugins ready`,
      );
    }
    satisfied = `${ready} of ${total} initial plugins ready (minReady ${policy.minReady})`;
  }

  const down = config.required.filter((name) => required[name] !== true);
  if (down.length > 0) {
    const names = down.map((name) => {
      const plugin = byName.get(name);
      if (plugin === undefined) return `${name} (not loaded)`;
      if (!plugin.enabled) return `${name} (disabled)`;
      return `${name} (${plugin.state}, ${plugin.health.status})`;
    });
    return report(false, 'required', `required plugins not available: ${list(names)}`);
  }
  return report(true, 'ready', satisfied);
}

function summarize(plugins: PluginReadinessInput[], missing: string[]): PluginSetReadiness {
  const out: PluginSetReadiness = {
    total: plugins.length + missing.length,
    ready: 0,
    failed: 0,
    pending: missing.length,
    plugins: {},
  };
  const entries: Array<[string, PluginReadiness]> = [];
  for (const p of plugins) {
    if (p.state === 'ready') out.ready++;
    else if (p.state === 'failed') out.failed++;
    else if (p.enabled && (p.state === 'pending' || p.state === 'starting')) out.pending++;
    entries.push([
      p.name,
      {
        state: p.state,
        health: p.health.status,
        enabled: p.enabled,
        attempts: p.startAttempts,
        maxAttempts: p.maxAttempts,
        lastError: p.lastError,
      },
    ]);
  }
  for (const name of missing) {
    entries.push([
      name,
      {
        state: 'pending',
        health: 'unknown',
        enabled: true,
        attempts: 0,
        maxAttempts: 0,
        lastError: 'not loaded',
      },
    ]);
  }
  // fromEntries defines properties, so any plugin name is a plain key.
  out.plugins = Object.fromEntries(entries);
  return out;
}

function list(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

/**
 * Keeps the readiness of one manager as its plugins change, at O(1) per change: the manager calls
 * {@link set} (or {@link remove}) for the one plugin that changed, and the tracker keeps four
 * counts over the locked initial set and the `required` names, from which it decides `ready` and
 * its code exactly as {@link computeReadiness} would. The full report (every plugin, the
 * reason) is built only when {@link report} is read, and kept until the next change; `onChange`
 * is called when `ready` flips.
 */
export class ReadinessTracker {
  private initial: Set<string> | undefined;
  private readonly settled = new Set<string>();
  private shuttingDown = false;
  private readonly plugins = new Map<string, PluginReadinessInput>();
  private required: Set<string>;
  private built: ReadinessReport | undefined;
  private isReady = false;
  // The counts readiness is decided from (see account()).
  /** Initial names with no plugin, or whose plugin has not finished its first startup. */
  private waiting = 0;
  /** Enabled initial plugins that are not ready and healthy (the `healthy` policy). */
  private unwell = 0;
  /** Enabled initial plugins in state `ready` (the `minReady` policy). */
  private initialReady = 0;
  /** Distinct required names whose plugin is not available. */
  private requiredDown = 0;

  constructor(
    private currentConfig: ReadinessConfig,
    /** Called when `ready` flips, with the new report. */
    private readonly onChange?: (report: ReadinessReport) => void,
  ) {
    this.required = new Set(currentConfig.required);
    this.recount();
  }

  /** The report as things are now: built on first read after a change (O(plugins)). */
  get report(): ReadinessReport {
    return (this.built ??= computeReadiness({
      initial: this.initial,
      plugins: this.plugins.values(),
      config: this.currentConfig,
      settled: this.settled,
      shuttingDown: this.shuttingDown,
    }));
  }

  /** Whether the manager is ready: O(1), same as `report.ready`. */
  get ready(): boolean {
    return this.isReady;
  }

  /** Why (not) ready: O(1), same as `report.code`. */
  get code(): ReadinessCode {
    if (this.shuttingDown) return 'shutting-down';
    if (this.initial === undefined) return 'not-loaded';
    if (this.waiting > 0) return 'starting';
    const { policy } = this.currentConfig;
    const met =
      policy === 'attempted' ||
      (policy === 'healthy' ? this.unwell === 0 : this.initialReady >= policy.minReady);
    if (!met) return 'policy';
    return this.requiredDown > 0 ? 'required' : 'ready';
  }

  /** The readiness config in force. */
  get config(): ReadinessConfig {
    return this.currentConfig;
  }

  /** The initial set, once locked. */
  get initialSet(): ReadonlySet<string> | undefined {
    return this.initial;
  }

  /**
   * Locks the initial set (the first load's plugins) and the readiness config. Only the first
   * call counts; returns whether this one did.
   */
  lock(names: Iterable<string>, config: ReadinessConfig = this.currentConfig): boolean {
    if (this.initial !== undefined) return false;
    this.initial = new Set(names);
    this.currentConfig = config;
    this.required = new Set(config.required);
    for (const plugin of this.plugins.values()) this.settle(plugin);
    this.recount();
    this.changed();
    return true;
  }

  /** Applies a new readiness config (a reload); the initial set stays as it is. */
  configure(config: ReadinessConfig): void {
    this.currentConfig = config;
    this.required = new Set(config.required);
    this.recount();
    this.changed();
  }

  /** Takes a removed plugin out of the initial set: readiness no longer waits for it. */
  forget(name: string): void {
    this.account(name, -1);
    this.initial?.delete(name);
    this.settled.delete(name);
    this.account(name, 1);
    this.changed();
  }

  /** Marks the manager as shutting down: not ready from now on. Returns the new report. */
  shutdown(): ReadinessReport {
    this.shuttingDown = true;
    this.changed();
    return this.report;
  }

  /** One plugin as it is now (added or changed). O(1). */
  set(plugin: PluginReadinessInput): void {
    this.account(plugin.name, -1);
    this.plugins.set(plugin.name, plugin);
    this.settle(plugin);
    this.account(plugin.name, 1);
    this.changed();
  }

  /** The plugin `name` no longer runs. O(1). */
  remove(name: string): void {
    if (!this.plugins.has(name)) return;
    this.account(name, -1);
    this.plugins.delete(name);
    this.account(name, 1);
    this.changed();
  }

  /** Replaces every plugin with `plugins` (O(plugins)), and returns the report. */
  update(plugins: Iterable<PluginReadinessInput>): ReadinessReport {
    this.plugins.clear();
    for (const plugin of plugins) {
      this.plugins.set(plugin.name, plugin);
      this.settle(plugin);
    }
    this.recount();
    this.changed();
    return this.report;
  }

  /** An initial plugin that has finished its startup once stays settled (see ReadinessInput). */
  private settle(plugin: PluginReadinessInput): void {
    if (this.initial?.has(plugin.name) === true && startupFinished(plugin)) {
      this.settled.add(plugin.name);
    }
  }

  /**
   * Adds (`sign` 1) or takes back (-1) what the name counts for. Every change takes back the
   * name's share, changes it, and adds it again: the counts stay exact whatever changed.
   */
  private account(name: string, sign: 1 | -1): void {
    const plugin = this.plugins.get(name);
    if (this.initial?.has(name) === true) this.accountInitial(name, plugin, sign);
    if (this.required.has(name) && !available(plugin)) this.requiredDown += sign;
  }

  private accountInitial(
    name: string,
    plugin: PluginReadinessInput | undefined,
    sign: 1 | -1,
  ): void {
    if (plugin === undefined || !this.settled.has(name)) this.waiting += sign;
    if (plugin === undefined || !plugin.enabled) return;
    if (!healthy(plugin)) this.unwell += sign;
    if (plugin.state === 'ready') this.initialReady += sign;
  }

  /** Counts everything again: O(initial + required); after a lock or a config change. */
  private recount(): void {
    this.waiting = this.unwell = this.initialReady = this.requiredDown = 0;
    for (const name of this.initial ?? []) {
      this.accountInitial(name, this.plugins.get(name), 1);
    }
    for (const name of this.required) {
      if (!available(this.plugins.get(name))) this.requiredDown++;
    }
  }

  private changed(): void {
    this.built = undefined;
    const ready = this.code === 'ready';
    if (ready === this.isReady) return;
    this.isReady = ready;
    this.onChange?.(this.report);
  }
}
