import { realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_DISCOVERY } from '../config/discovery-schema.js';
import type { RegistryOptions } from '../config/parse.js';
import { DEFAULT_POLICY } from '../config/defaults.js';
import type {
  DiscoveryConfig,
  ManagerConfig,
  PluginConfig,
  PolicyConfig,
} from '../config/types.js';
import { ErrorCode, isPluginError } from '../errors.js';
import type { TypedEvents } from '../events.js';
import type { Logger } from '../types.js';
import {
  scanDirectories,
  type FoundPlugin,
  type RejectedEntry,
  type ScanResult,
} from './scanner.js';
import { discoveredOrigin, verifyExecutable } from './verify.js';
import { DiscoveryWatcher } from './watcher.js';
import { errorMessage } from '../internal/errorMessage.js';

/** What discovery needs from the manager. */
export interface DiscoveryHost {
  events: TypedEvents;
  logger: Logger;
  /** Transports (and their checks) manifests are validated against. */
  parseOptions(): RegistryOptions;
  /** Names taken by plugins registered in code. */
  reservedNames(): Iterable<string>;
  /** Something changed on disk: reload the running config with what a scan finds now. */
  rescan(): Promise<void>;
}

/** Counters of discovery, in `manager.metrics().discovery`. */
export interface DiscoveryStats {
  /** Scans run (load, reload, watch). */
  scans: number;
  /** Plugins found new or changed. */
  discovered: number;
  /** Refusals reported (at scan or before a spawn). */
  rejected: number;
  /** Binaries checked right before a spawn and allowed to run. */
  verified: number;
  /** Spawns refused by that check. */
  refused: number;
}

/**
 * Plugin discovery for one manager: scans the configured directories, turns what it finds into
 * PluginConfigs merged into the configuration that `load()` or `reload()` applies (so a
 * discovered plugin has exactly the lifecycle of a configured one), checks each discovered
 * binary before it is spawned, and in watch mode asks for a reload when the directories change.
 */
export class Discovery {
  readonly stats: DiscoveryStats = {
    scans: 0,
    discovered: 0,
    rejected: 0,
    verified: 0,
    refused: 0,
  };
  private settings: DiscoveryConfig = DEFAULT_DISCOVERY;
  /** The config's `defaults`, which manifests fall back to. */
  private defaults: PolicyConfig = DEFAULT_POLICY;
  private watcher: DiscoveryWatcher | undefined;
  private watcherKey = '';
  /** What the running config holds, by plugin name. */
  private applied = new Map<string, FoundPlugin>();
  /** Refusals already reported, by path: the same one is not reported on every scan. */
  private reported = new Map<string, string>();
  private lastSignature = '';
  /** The last refusal reported by `verify`, by plugin. */
  private readonly refusals = new Map<string, string>();
  private watchDirectories: ReadonlySet<string> = new Set();
  private stopped = false;

  constructor(private readonly host: DiscoveryHost) {}

  /** Whether the running configuration has discovery on. */
  get enabled(): boolean {
    return this.settings.enabled;
  }

  /**
   * The configuration `user` with the plugins its `discovery` section finds added after its
   * own. A plugin whose name is taken (by the config, a group, a plugin registered in code, or
   * an earlier directory) is refused, never the config. With `settle` (watch mode), files that
   * change between two scans `debounceMs` apart are still being written: they keep their running
   * version (or stay out) and are looked at again.
   */
  async merge(user: ManagerConfig, settle = false): Promise<ManagerConfig> {
    this.settings = user.discovery;
    if (!user.discovery.enabled || this.stopped) {
      this.stopWatching();
      this.applied.clear();
      return user;
    }
    let scan = await this.scan(user);
    if (settle) scan = await this.settled(user, scan);
    this.defaults = user.defaults;
    // Taken before admit() adds its refusals, so that it compares with a plain scan.
    this.lastSignature = signature(scan);
    const found = this.admit(user, scan);
    this.report(found, scan.rejected);
    this.applied = new Map(found.map((plugin) => [plugin.config.name, plugin]));
    this.watchDirectories = await directoriesToWatch(user.discovery, found);
    this.startWatching();
    return { ...user, plugins: [...user.plugins, ...found.map((plugin) => plugin.config)] };
  }

  /**
   * Checks a plugin's binary right before it is spawned: only discovered exec plugins are
   * concerned. Refusals are reported (`plugin-rejected`, a warning) and thrown as `PLUGIN_1212`.
   */
  readonly verify = async (config: PluginConfig): Promise<void> => {
    const origin = discoveredOrigin(config);
    if (origin === undefined || config.transport !== 'exec') return;
    try {
      await verifyExecutable(config, origin, this.settings);
      this.stats.verified++;
      this.refusals.delete(config.name);
    } catch (error) {
      this.stats.refused++;
      const reason = errorMessage(error);
      // Background start attempts repeat the check: the same refusal is reported once.
      if (this.refusals.get(config.name) !== reason) {
        this.refusals.set(config.name, reason);
        this.stats.rejected++;
        const code = isPluginError(error) ? error.code : ErrorCode.PluginVerificationFailed;
        this.host.logger.warn(
          { plugin: config.name, code, reason },
          'plugwire: discovered plugin refused',
        );
        this.host.events.emit('plugin-rejected', {
          plugin: config.name,
          path: config.executable ?? origin.path,
          reason,
          code,
        });
      }
      throw error;
    }
  };

  /** Stops watching for good (shutdown). */
  stop(): void {
    this.stopped = true;
    this.stopWatching();
  }

  private async scan(user: ManagerConfig): Promise<ScanResult> {
    const started = performance.now();
    const result = await scanDirectories(user.discovery, {
      defaults: user.defaults,
      parse: this.host.parseOptions(),
    });
    this.stats.scans++;
    this.host.events.emit('discovery-scan', {
      directories: [...user.discovery.directories],
      found: result.found.length,
      rejected: result.rejected.length,
      durationMs: performance.now() - started,
    });
    return result;
  }

  /** A second scan after `debounceMs`: what differs is still changing and keeps its last state. */
  private async settled(user: ManagerConfig, first: ScanResult): Promise<ScanResult> {
    await sleep(user.discovery.debounceMs);
    const second = await this.scan(user);
    const before = new Map(first.found.map((p) => [p.origin.path, p.origin.version]));
    const after = new Map(second.found.map((p) => [p.origin.path, p.origin.version]));
    const changing = new Set<string>();
    for (const [path, version] of after) if (before.get(path) !== version) changing.add(path);
    for (const path of before.keys()) if (!after.has(path)) changing.add(path);
    const rejectedBefore = new Map(first.rejected.map((r) => [r.path, r.version]));
    for (const r of second.rejected)
      if (rejectedBefore.get(r.path) !== r.version) changing.add(r.path);
    if (changing.size === 0) return second;
    this.watcher?.schedule(); // look again once it has settled
    const found = second.found.filter((p) => !changing.has(p.origin.path));
    for (const previous of this.applied.values()) {
      const path = previous.origin.path;
      if (changing.has(path) && !found.some((p) => p.config.name === previous.config.name)) {
        found.push(previous);
      }
    }
    return { found, rejected: second.rejected.filter((r) => !changing.has(r.path)) };
  }

  /** Drops (and refuses) the plugins whose name or group clashes with the config or each other. */
  private admit(user: ManagerConfig, scan: ScanResult): FoundPlugin[] {
    const pluginNames = new Set([...user.plugins.map((p) => p.name), ...this.host.reservedNames()]);
    const groupNames = new Set(Object.keys(user.groups));
    for (const plugin of user.plugins) if (plugin.group !== undefined) groupNames.add(plugin.group);
    const admitted: FoundPlugin[] = [];
    for (const plugin of scan.found) {
      const { name, group } = plugin.config;
      let reason: string | undefined;
      if (pluginNames.has(name))
        reason = `the name "${name}" is already used by a configured plugin`;
      else if (groupNames.has(name)) reason = `the name "${name}" is already used by a group`;
      else if (group !== undefined && pluginNames.has(group)) {
        reason = `its group "${group}" is the name of a plugin; plugins and groups share one namespace`;
      }
      if (reason !== undefined) {
        scan.rejected.push({
          plugin: name,
          path: plugin.origin.path,
          reason,
          code: ErrorCode.DuplicatePluginName,
          version: plugin.origin.version,
        });
        continue;
      }
      pluginNames.add(name);
      if (group !== undefined) groupNames.add(group);
      admitted.push(plugin);
    }
    return admitted;
  }

  private report(found: FoundPlugin[], rejected: RejectedEntry[]): void {
    for (const { config, origin } of found) {
      const previous = this.applied.get(config.name);
      if (previous?.origin.version === origin.version) continue;
      this.stats.discovered++;
      this.host.logger.info(
        { plugin: config.name, path: origin.path, manifest: origin.manifest },
        'plugwire: plugin discovered',
      );
      this.host.events.emit('plugin-discovered', {
        plugin: config.name,
        path: origin.path,
        directory: origin.directory,
        manifest: origin.manifest,
        transport: config.transport,
        change: previous === undefined ? 'added' : 'changed',
      });
    }
    const reported = new Map<string, string>();
    for (const entry of rejected) {
      const key = `${entry.version}\n${entry.reason}`;
      reported.set(entry.path, key);
      if (this.reported.get(entry.path) === key) continue;
      this.stats.rejected++;
      this.host.logger.warn(
        { plugin: entry.plugin, path: entry.path, code: entry.code, reason: entry.reason },
        'plugwire: discovered plugin refused',
      );
      this.host.events.emit('plugin-rejected', {
        plugin: entry.plugin,
        path: entry.path,
        reason: entry.reason,
        code: entry.code,
      });
    }
    this.reported = reported;
  }

  private startWatching(): void {
    const { watchMode, debounceMs, poll } = this.settings;
    const key = watchMode ? `${debounceMs}:${poll}` : '';
    if (key === this.watcherKey) return;
    this.stopWatching();
    if (!watchMode || this.stopped) return;
    this.watcherKey = key;
    this.watcher = new DiscoveryWatcher({
      debounceMs,
      poll,
      directories: () => this.watchDirectories,
      onChange: () => this.onDirectoryChange(),
      onError: (error) => this.host.events.emit('error', { error, context: 'plugin discovery' }),
    });
  }

  private stopWatching(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.watcherKey = '';
  }

  /** A quick scan first: only a real change of what a scan finds leads to a reload. */
  private async onDirectoryChange(): Promise<void> {
    if (this.stopped || !this.settings.enabled) return;
    const result = await scanDirectories(this.settings, {
      defaults: this.defaults,
      parse: this.host.parseOptions(),
    });
    if (signature(result) === this.lastSignature) return;
    await this.host.rescan();
  }
}

/** What a scan found, as one string: equal strings mean nothing changed. */
function signature(scan: ScanResult): string {
  const found = scan.found.map((p) => `+${p.origin.path}@${p.origin.version}`);
  const rejected = scan.rejected.map((r) => `-${r.path}@${r.version}`);
  return [...found, ...rejected].sort().join('\n');
}

/**
 * The directories whose events matter: each scanned directory (and where it resolves to), each
 * plugin folder, and the folder a symlinked binary really lives in (a volume's `..2026_…`).
 */
async function directoriesToWatch(
  settings: DiscoveryConfig,
  found: FoundPlugin[],
): Promise<ReadonlySet<string>> {
  const wanted = new Set<string>();
  const add = async (path: string) => {
    wanted.add(path);
    const real = await realpath(path).catch(() => undefined);
    if (real !== undefined) wanted.add(real);
  };
  for (const directory of settings.directories) await add(resolve(directory));
  for (const { config, origin } of found) {
    if (
      origin.path !== origin.directory &&
      origin.manifest !== undefined &&
      dirname(origin.manifest) === origin.path
    ) {
      await add(origin.path);
    }
    if (config.executable !== undefined) {
      const real = await realpath(config.executable).catch(() => undefined);
      if (real !== undefined) wanted.add(dirname(real));
    }
  }
  return wanted;
}
