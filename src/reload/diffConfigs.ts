import { parseConfig } from '../builtinConfig.js';
import { isValidatedConfig } from '../config/parse.js';
import type { ParseOptions } from '../config/parse.js';
import type { ManagerConfig } from '../config/types.js';
import { diffModels, type ConfigDiff } from './diff.js';

/**
 * What a reload from `old` to `next` would do: added, updated (with every changed field and
 * whether it applies in place), removed and unchanged plugins, groups and settings.
 *
 * Configs returned by `parseConfig()` / `loadConfigFile()` are compared as they are; anything
 * else (a raw object as written in a file, snake_case keys, Go durations) is validated first
 * with `options`, as `parseConfig()` would (pass `transports` for transports registered with a
 * manager). The diff names fields only, never values: it is safe to log.
 *
 * @throws {ConfigError} when either config is invalid (its issues say which, `old:` or `next:`
 *   in the source).
 */
export function diffConfigs(old: unknown, next: unknown, options: ParseOptions = {}): ConfigDiff {
  return diffModels(model(old, 'old', options), model(next, 'next', options));
}

function model(config: unknown, which: string, options: ParseOptions): ManagerConfig {
  if (isValidatedConfig(config)) return config;
  return parseConfig(config, {
    ...options,
    source: `diffConfigs(${which}${options.source === undefined ? '' : `: ${options.source}`})`,
  });
}
