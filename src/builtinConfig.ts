import {
  loadConfigFile as loadFile,
  parseConfig as parse,
  parsePluginConfig as parsePlugin,
  type ParseOptions,
} from './config/index.js';
import type { RegistryOptions } from './config/parse.js';
import type { ManagerConfig, PluginConfig, PolicyConfig } from './config/types.js';
import { balancerNames } from './balance/registry.js';
import { builtinFactories } from './transport/builtin.js';
import type { PluginFactory } from './types.js';

/**
 * The built-in transports by name (and the registered balancing strategies), for validation. The config layer knows no transport: each
 * transport's factory owns its checks (`validate`), and this is where the two meet.
 */
function withBuiltins(options: ParseOptions): RegistryOptions {
  const { builtinTransports, ...rest } = options;
  const transports = new Map<string, Pick<PluginFactory, 'validate' | 'validates'>>();
  if (builtinTransports !== false) {
    for (const factory of builtinFactories()) {
      for (const name of factory.transports) transports.set(name, factory);
    }
  }
  for (const [name, factory] of options.transports ?? []) transports.set(name, factory);
  return { ...rest, transports, strategies: options.strategies ?? balancerNames() };
}

/**
 * Validates a configuration object: the shared schema plus each built-in transport's own
 * checks (and those of `options.transports`). See docs/configuration.md.
 *
 * @throws {ConfigError} listing every problem by path; nothing is started or changed.
 */
export function parseConfig(input: unknown, options: ParseOptions = {}): ManagerConfig {
  return parse(input, withBuiltins(options));
}

/** Like {@link parseConfig}, for one plugin entry whose policies fall back to `defaults`. */
export function parsePluginConfig(
  input: unknown,
  defaults: PolicyConfig,
  options: ParseOptions = {},
): PluginConfig {
  return parsePlugin(input, defaults, withBuiltins(options));
}

/** Reads a YAML or JSON file and validates it like {@link parseConfig}. */
export function loadConfigFile(path: string, options: ParseOptions = {}): Promise<ManagerConfig> {
  return loadFile(path, withBuiltins(options));
}
