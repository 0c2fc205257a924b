import { DEFAULT_STRATEGY } from '../balance/registry.js';
import type { GroupConfig, ManagerConfig, PluginConfig } from '../config/types.js';
import { changedPaths } from './paths.js';
import { updateMode, type UpdateMode } from './rules.js';

/** A plugin present in both configs whose config changed. */
export interface PluginUpdate {
  name: string;
  /** Every changed leaf field, e.g. `circuitBreaker.failureThreshold`, `args[1]`, `auth.token`. */
  changes: string[];
  /** `recreate` when any change needs a new instance (see `canApplyInPlace()`). */
  mode: UpdateMode;
}

/** A group present in both configs whose strategy or options changed. */
export interface GroupUpdate {
  name: string;
  /** Changed fields of the group: `strategy`, `options.virtualNodes`, … */
  changes: string[];
}

/** What changed in the groups. Members are not part of a group's config: see each plugin's `group`. */
export interface GroupsDiff {
  added: string[];
  updated: GroupUpdate[];
  removed: string[];
  unchanged: string[];
}

/**
 * What a reload has to do to go from one validated config to the next.
 *
 * It holds names and field paths only, never config values: it is safe to log and to put in
 * events, even when the changed fields are secrets (`auth.token` is reported, its value is not).
 * The configs themselves are in the `next` config the reload holds anyway.
 *
 * Plugins are matched by name (a rename is a removal plus an addition). Lists follow config
 * order: `added`, `updated` and `unchanged` that of the next config, `removed` that of the old.
 */
export interface ConfigDiff {
  /** Plugins only in the next config, to create and start. */
  added: string[];
  /** Plugins in both whose config changed. */
  updated: PluginUpdate[];
  /** Plugins only in the old config, to drain and close. */
  removed: string[];
  /** Plugins in both with an identical config. */
  unchanged: string[];
  /**
   * Groups, declared under `groups` or only named by a plugin's `group` (which gets the default
   * strategy): declaring such a group with the default strategy and no options is no change.
   */
  groups: GroupsDiff;
  /** `readiness` (policy or required plugins) changed. */
  readinessChanged: boolean;
  /**
   * `defaults` changed. Their effect on plugins from the file is already in those plugins'
   * changes (defaults are applied when the config is parsed); this matters for plugins
   * registered in code later, which take the defaults then in force.
   */
  defaultsChanged: boolean;
  /**
   * Every changed leaf outside `plugins` and `groups`: `defaults.retry.maxRetries`,
   * `readiness.policy`, `retryBudget.ratio`, `startupConcurrency`.
   */
  settings: string[];
}

/**
 * Compares two validated configs field by field. Pure and deterministic: the same two configs
 * always give the same diff, in the same order. The public `diffConfigs()` validates its input
 * first; the manager calls this one with the models it holds.
 */
export function diffModels(old: ManagerConfig, next: ManagerConfig): ConfigDiff {
  const settings = changedPaths(withoutLists(old), withoutLists(next));
  return {
    ...diffPlugins(old.plugins, next.plugins),
    groups: diffGroups(effectiveGroups(old), effectiveGroups(next)),
    readinessChanged: settings.some((path) => isUnder(path, 'readiness')),
    defaultsChanged: settings.some((path) => isUnder(path, 'defaults')),
    settings,
  };
}

/** True when applying `diff` would change nothing. */
export function isEmptyDiff(diff: ConfigDiff): boolean {
  return (
    diff.added.length === 0 &&
    diff.updated.length === 0 &&
    diff.removed.length === 0 &&
    diff.groups.added.length === 0 &&
    diff.groups.updated.length === 0 &&
    diff.groups.removed.length === 0 &&
    diff.settings.length === 0
  );
}

/** The changed fields of one plugin (its name excluded: plugins are matched by it). */
export function diffPlugin(old: PluginConfig, next: PluginConfig): string[] {
  const { name: _old, ...before } = old;
  const { name: _next, ...after } = next;
  return changedPaths(before, after);
}

function diffPlugins(
  old: readonly PluginConfig[],
  next: readonly PluginConfig[],
): Pick<ConfigDiff, 'added' | 'updated' | 'removed' | 'unchanged'> {
  const before = byName(old);
  const after = byName(next);
  const added: string[] = [];
  const updated: PluginUpdate[] = [];
  const unchanged: string[] = [];
  for (const [name, config] of after) {
    const previous = before.get(name);
    if (previous === undefined) {
      added.push(name);
      continue;
    }
    const changes = diffPlugin(previous, config);
    if (changes.length === 0) unchanged.push(name);
    else updated.push({ name, changes, mode: updateMode(changes) });
  }
  const removed = [...before.keys()].filter((name) => !after.has(name));
  return { added, updated, removed, unchanged };
}

function diffGroups(
  old: ReadonlyMap<string, GroupConfig>,
  next: ReadonlyMap<string, GroupConfig>,
): GroupsDiff {
  const diff: GroupsDiff = { added: [], updated: [], removed: [], unchanged: [] };
  for (const [name, group] of next) {
    const previous = old.get(name);
    if (previous === undefined) {
      diff.added.push(name);
      continue;
    }
    const changes = changedPaths(previous, group);
    if (changes.length === 0) diff.unchanged.push(name);
    else diff.updated.push({ name, changes });
  }
  for (const name of old.keys()) if (!next.has(name)) diff.removed.push(name);
  return diff;
}

/**
 * The groups a config makes: those declared under `groups` (in their order), then those only
 * named by a plugin's `group` (in plugin order), as the manager builds them.
 */
function effectiveGroups(config: ManagerConfig): Map<string, GroupConfig> {
  const groups = new Map<string, GroupConfig>(Object.entries(config.groups));
  for (const plugin of config.plugins) {
    if (plugin.group !== undefined && !groups.has(plugin.group)) {
      groups.set(plugin.group, { strategy: DEFAULT_STRATEGY, options: {} });
    }
  }
  return groups;
}

// Names are unique in a validated config; should one repeat anyway, the first one counts.
function byName(plugins: readonly PluginConfig[]): Map<string, PluginConfig> {
  const map = new Map<string, PluginConfig>();
  for (const plugin of plugins) if (!map.has(plugin.name)) map.set(plugin.name, plugin);
  return map;
}

function isUnder(path: string, field: string): boolean {
  return path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
}

function withoutLists(config: ManagerConfig): Record<string, unknown> {
  const { plugins: _plugins, groups: _groups, ...rest } = config;
  return rest;
}
