import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { PluginConfig } from '../config/types.js';
import { ConfigError, ErrorCode, annotateError } from '../errors.js';
import { checkFile, isInside } from './safety.js';
import { errorMessage } from '../internal/errorMessage.js';

/** Manifest file names: `<file>.plugin.yaml` beside a file, `plugin.yaml` in a plugin folder. */
export const MANIFEST_SUFFIXES = ['.plugin.yaml', '.plugin.yml', '.plugin.json'] as const;
export const FOLDER_MANIFESTS = ['plugin.yaml', 'plugin.yml', 'plugin.json'] as const;

/** A manifest larger than this is refused rather than parsed. */
const MAX_MANIFEST_BYTES = 64 * 1024;

/** What a manifest is read against. */
export interface ManifestContext {
  /** The scanned directory, resolved: every path a manifest names must stay inside it. */
  root: string;
  /** Relative `executable`, `workDir` and `socketPath` are resolved from here. */
  base: string;
  /** The plugin's name when the manifest gives none (the file or folder name). */
  defaultName: string;
  /** The matched file, run when the manifest names no `executable` (absent for a folder). */
  file?: string | undefined;
  /** Validates a plugin config (one schema for the whole scan: see `pluginConfigParser`). */
  parse: (input: unknown, source?: string) => PluginConfig;
}

/**
 * Reads a plugin's manifest (or, with `manifest` undefined, takes the file's defaults: an exec
 * plugin named after the file) and validates it like a plugin in the config, every problem by
 * path. A manifest may give any plugin field (`name`, `transport`, `args`, `env`, `group`,
 * `weight`, `labels`, policy sections…); its policy sections fall back to the config's
 * `defaults`. Paths it names must lead inside the scanned directory.
 *
 * @throws {ConfigError} whose `source` is the manifest: the plugin is refused.
 */
export async function readManifest(
  manifest: string | undefined,
  context: ManifestContext,
): Promise<PluginConfig> {
  const source = manifest ?? context.file ?? context.base;
  const document = manifest === undefined ? {} : await readDocument(manifest, context.root);
  const input: Record<string, unknown> = {
    name: context.defaultName,
    transport: 'exec',
    ...document,
  };
  if (input.executable === undefined && context.file !== undefined) input.executable = context.file;
  const config = context.parse(input, source);
  const problems: Array<{ path: string; message: string; code: ErrorCode }> = [];
  const inside = async (
    field: 'executable' | 'workDir' | 'socketPath',
    kind: 'file' | 'directory' | 'any',
  ) => {
    const value = config[field];
    if (value === undefined) return;
    const path = isAbsolute(value) ? value : resolve(context.base, value);
    config[field] = path;
    if (kind === 'any') {
      // A socket may not exist yet: only where it would be is checked.
      if (!isInside(context.root, path)) {
        problems.push({
          path: field,
          message: `leads outside ${context.root}`,
          code: ErrorCode.PluginVerificationFailed,
        });
      }
      return;
    }
    const checked = await checkFile(context.root, path, kind);
    if (typeof checked === 'string') {
      problems.push({ path: field, message: checked, code: ErrorCode.PluginVerificationFailed });
    }
  };
  if (config.transport === 'exec') await inside('executable', 'file');
  await inside('workDir', 'directory');
  await inside('socketPath', 'any');
  if (problems.length > 0) {
    const error = new ConfigError(problems, source);
    annotateError(error, config.name);
    throw error;
  }
  return config;
}

async function readDocument(manifest: string, root: string): Promise<Record<string, unknown>> {
  const refuse = (message: string, code: ErrorCode = ErrorCode.InvalidJSONConfig): never => {
    throw new ConfigError([{ path: '', message, code }], manifest);
  };
  const checked = await checkFile(root, manifest);
  if (typeof checked === 'string') return refuse(checked, ErrorCode.PluginVerificationFailed);
  if (checked.stats.size > MAX_MANIFEST_BYTES) {
    return refuse(
      `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`,
      ErrorCode.InvalidConfig,
    );
  }
  // yaml is imported when a manifest is read, not with plugwire (as in config/load.ts).
  const yaml: typeof import('yaml') = await import('yaml');
  let document: unknown;
  try {
    document = yaml.parse(await readFile(checked.real, 'utf8'));
  } catch (error) {
    const at =
      error instanceof Error && 'linePos' in error && Array.isArray(error.linePos)
        ? `line ${(error.linePos[0] as { line: number }).line}: `
        : '';
    const reason = errorMessage(error).split('\n')[0];
    return refuse(`${at}not valid YAML/JSON: ${reason}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return refuse('a manifest must be a mapping of plugin fields (name, transport, args, …)');
  }
  return document as Record<string, unknown>;
}
