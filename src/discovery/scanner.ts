import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pluginConfigParser, type RegistryOptions } from '../config/parse.js';
import type { DiscoveryConfig, PluginConfig, PolicyConfig } from '../config/types.js';
import { ErrorCode, errnoCode, isConfigError, isPluginError } from '../errors.js';
import {
  FOLDER_MANIFESTS,
  MANIFEST_SUFFIXES,
  readManifest,
  type ManifestContext,
} from './manifest.js';
import { compilePatterns } from './pattern.js';
import { checkFile, isExecutable, unsafeOwnership } from './safety.js';
import { errorMessage } from '../internal/errorMessage.js';

/** Where a discovered plugin came from: kept in its config as `options.discovered`. */
export interface DiscoveredOrigin {
  /** The scanned directory as configured, made absolute. */
  directory: string;
  /** The matched file or folder. */
  path: string;
  /** The manifest read, if any. */
  manifest?: string | undefined;
  /**
   * What the files looked like (device, inode, size, times of the binary and the manifest). A
   * replaced or rewritten file changes it, and so the plugin's config: a reload recreates it.
   */
  version: string;
}

/** A plugin found and accepted by a scan. */
export interface FoundPlugin {
  config: PluginConfig;
  origin: DiscoveredOrigin;
}

/** Something a scan refused, and why. */
export interface RejectedEntry {
  /** The plugin's name when it was known. */
  plugin?: string | undefined;
  path: string;
  reason: string;
  code: ErrorCode;
  /** What the files looked like: the same refusal of the same files is reported once. */
  version: string;
}

/** What one scan found. */
export interface ScanResult {
  found: FoundPlugin[];
  rejected: RejectedEntry[];
}

/** What a scan needs besides the `discovery` section. */
export interface ScanContext {
  /** Policy defaults for manifests (the config's `defaults`). */
  defaults: PolicyConfig;
  /** Transport names and checks, as for the config. */
  parse: RegistryOptions;
}

const isManifestName = (name: string): boolean =>
  MANIFEST_SUFFIXES.some((suffix) => name.endsWith(suffix));

/**
 * Scans the discovery directories once. Each directory is listed with one `readdir`; only the
 * entries whose name matches a pattern are examined further, so a directory of many unrelated
 * files costs little. A matching file is an exec plugin named after it (its manifest
 * `<file>.plugin.yaml`, if present, may say more); a matching folder holding a `plugin.yaml`
 * is a plugin described by that manifest. Entries that are not safe or not valid are refused
 * one by one: the others are unaffected. When two directories give the same name, the first
 * directory wins.
 */
export async function scanDirectories(
  settings: Pick<DiscoveryConfig, 'directories' | 'patterns'>,
  context: ScanContext,
): Promise<ScanResult> {
  const matches = compilePatterns(settings.patterns);
  const parse = pluginConfigParser(context.defaults, context.parse);
  const result: ScanResult = { found: [], rejected: [] };
  const perDirectory = await Promise.all(
    settings.directories.map((directory) => scanDirectory(resolve(directory), matches, parse)),
  );
  const seen = new Map<string, string>();
  for (const { found, rejected } of perDirectory) {
    result.rejected.push(...rejected);
    for (const plugin of found) {
      const first = seen.get(plugin.config.name);
      if (first === undefined) {
        seen.set(plugin.config.name, plugin.origin.path);
        result.found.push(plugin);
      } else {
        result.rejected.push({
          plugin: plugin.config.name,
          path: plugin.origin.path,
          reason: `the name "${plugin.config.name}" is already used by ${first}`,
          code: ErrorCode.DuplicatePluginName,
          version: plugin.origin.version,
        });
      }
    }
  }
  return result;
}

type Parse = ManifestContext['parse'];

async function scanDirectory(
  directory: string,
  matches: (name: string) => boolean,
  parse: Parse,
): Promise<ScanResult> {
  const result: ScanResult = { found: [], rejected: [] };
  const refuseDirectory = (
    reason: string,
    code: ErrorCode = ErrorCode.PluginVerificationFailed,
  ) => {
    result.rejected.push({ path: directory, reason, code, version: reason });
    return result;
  };
  let root: string;
  let entries: Dirent[];
  try {
    root = await realpath(directory);
    const stats = await stat(root);
    if (!stats.isDirectory())
      return refuseDirectory(`${directory} is not a directory`, ErrorCode.InvalidConfig);
    const unsafe = unsafeOwnership(stats, directory);
    if (unsafe !== undefined) return refuseDirectory(unsafe);
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    return refuseDirectory(
      `cannot scan ${directory} (${errnoCode(error) ?? String(error)})`,
      ErrorCode.InvalidConfig,
    );
  }
  const names = new Set(entries.map((entry) => entry.name));
  const candidates = entries.filter(
    (entry) =>
      matches(entry.name) &&
      !isManifestName(entry.name) &&
      !FOLDER_MANIFESTS.includes(entry.name as never),
  );
  const outcomes = await Promise.all(
    candidates.map((entry) => examine(directory, root, entry, names, parse)),
  );
  for (const outcome of outcomes) {
    if (outcome === undefined) continue;
    if ('config' in outcome) result.found.push(outcome);
    else result.rejected.push(outcome);
  }
  return result;
}

/** One matching entry: a plugin, a refusal, or nothing (a folder without a manifest). */
async function examine(
  directory: string,
  root: string,
  entry: Dirent,
  names: ReadonlySet<string>,
  parse: Parse,
): Promise<FoundPlugin | RejectedEntry | undefined> {
  const path = join(directory, entry.name);
  let isFolder = entry.isDirectory();
  if (entry.isSymbolicLink()) {
    isFolder = await stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }
  if (isFolder) return examineFolder(directory, root, path, entry.name, parse);
  const checked = await checkFile(root, path);
  if (typeof checked === 'string') {
    return {
      plugin: entry.name,
      path,
      reason: checked,
      code: ErrorCode.PluginVerificationFailed,
      version: checked,
    };
  }
  const suffix = MANIFEST_SUFFIXES.find((s) => names.has(`${entry.name}${s}`));
  const manifest = suffix === undefined ? undefined : join(directory, `${entry.name}${suffix}`);
  const manifestStats =
    manifest === undefined ? undefined : await stat(manifest).catch(() => undefined);
  const version = [signature(checked.stats), manifestStats && signature(manifestStats)].join('|');
  try {
    const config = await readManifest(manifest, {
      root,
      base: directory,
      defaultName: entry.name,
      file: path,
      parse,
    });
    if (config.transport === 'exec' && config.executable === path && !isExecutable(checked.stats)) {
      return {
        plugin: config.name,
        path,
        reason: `${path} is not executable (chmod u+x), or is not a plugin: narrow discovery.patterns`,
        code: ErrorCode.PluginVerificationFailed,
        version,
      };
    }
    return accept(config, { directory, path, manifest, version });
  } catch (error) {
    return refusal(error, entry.name, manifest ?? path, version);
  }
}

async function examineFolder(
  directory: string,
  root: string,
  folder: string,
  name: string,
  parse: Parse,
): Promise<FoundPlugin | RejectedEntry | undefined> {
  const inFolder = await readdir(folder).catch(() => [] as string[]);
  const manifestName = FOLDER_MANIFESTS.find((m) => inFolder.includes(m));
  if (manifestName === undefined) return undefined; // a folder, not a plugin
  const manifest = join(folder, manifestName);
  const checked = await checkFile(root, folder, 'directory');
  if (typeof checked === 'string') {
    return {
      plugin: name,
      path: folder,
      reason: checked,
      code: ErrorCode.PluginVerificationFailed,
      version: checked,
    };
  }
  const manifestStats = await stat(manifest).catch(() => undefined);
  let version = manifestStats ? signature(manifestStats) : 'no-manifest';
  try {
    const config = await readManifest(manifest, {
      root,
      base: folder,
      defaultName: name,
      parse,
    });
    if (config.workDir === undefined && config.transport === 'exec') config.workDir = folder;
    if (config.executable !== undefined) {
      const binary = await stat(config.executable).catch(() => undefined);
      if (binary) version += `|${signature(binary)}`;
    }
    return accept(config, { directory, path: folder, manifest, version });
  } catch (error) {
    return refusal(error, name, manifest, version);
  }
}

function accept(config: PluginConfig, origin: DiscoveredOrigin): FoundPlugin {
  config.options = { ...config.options, discovered: { ...origin } };
  return { config, origin };
}

const unsafe = (issue: { code: string }): boolean =>
  issue.code === ErrorCode.PluginVerificationFailed;

function refusal(error: unknown, name: string, path: string, version: string): RejectedEntry {
  const plugin = isPluginError(error) && error.plugin !== undefined ? error.plugin : name;
  return {
    plugin,
    path,
    reason: errorMessage(error),
    code:
      isConfigError(error) && error.issues.some(unsafe)
        ? ErrorCode.PluginVerificationFailed
        : isPluginError(error)
          ? error.code
          : ErrorCode.InvalidConfig,
    version,
  };
}

// The same fields the config watcher compares: a rename, a rewrite or a chmod changes it.
function signature(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}
