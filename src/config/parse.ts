import type { z } from 'zod';
import { ConfigError, annotateError } from '../errors.js';
import { DEFAULT_POLICY } from './defaults.js';
import { fieldKit, isRecord } from './fields.js';
import { toConfigIssues, zodMessage, type IssueScope } from './issues.js';
import { managerSchema, normaliseRoot } from './manager-schema.js';
import { pluginSchema, type SchemaContext } from './plugin-schema.js';
import type { TransportValidator } from '../types.js';
import { policySchema } from './policy-schema.js';
import type { ManagerConfig, PluginConfig, PolicyConfig } from './types.js';

/** Options of {@link parseConfig}, {@link parsePluginConfig} and `loadConfigFile()`. */
export interface ParseOptions {
  /** Where the config came from (a file path), shown in the error message. */
  source?: string | undefined;
  /** Variables for `${NAME}` references. Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Transports registered besides the built-in ones, by name. A factory's `validate()` runs on
   * each plugin of its transport that is otherwise valid.
   */
  transports?: ReadonlyMap<string, TransportValidator> | undefined;
  /**
   * Whether the built-in transports (http, https, grpc, grpc-tls, unix, exec) are registered
   * beside `transports`. Default true; false accepts only the names in `transports`, like a
   * manager created with `builtinTransports: false`.
   */
  builtinTransports?: boolean | undefined;
  /**
   * The balancing strategy names groups may use (the balancer registry's; the manager and the
   * public `parseConfig` pass them). Without it, strategy names are not checked here.
   */
  strategies?: Iterable<string> | undefined;
}

/**
 * What the config layer itself reads: the registry of transports, exactly (callers add the
 * built-in ones: see builtinConfig.ts and the manager), and how to explain a missing one.
 */
export interface RegistryOptions extends Omit<ParseOptions, 'builtinTransports'> {
  /** The fix to show for a transport name that is known but not registered here. */
  transportHint?: ((name: string) => string | undefined) | undefined;
}

const PARSE_PARAMS = { error: zodMessage, reportInput: true } as const;

// The configs this module returned: `diffConfigs()` takes them as they are and validates
// anything else first.
const validated = new WeakSet<object>();

/** @internal Whether `value` is a config returned by {@link parseConfig}, unchanged since. */
export function isValidatedConfig(value: unknown): value is ManagerConfig {
  return typeof value === 'object' && value !== null && validated.has(value);
}

/**
 * Validates a whole configuration and returns the complete model: every key camelCase, every
 * duration in milliseconds, every default applied (built-in ← `defaults` ← the plugin's own
 * sections, field by field), every `${ENV}` reference replaced.
 *
 * Accepts go-plugins' snake_case keys and its top-level `default_*` sections.
 *
 * @throws {ConfigError} listing every problem by path (`plugins[2].endpoint`), each with its
 *   go-plugins code. No secret value ever appears in it.
 */
export function parseConfig(input: unknown, options: RegistryOptions = {}): ManagerConfig {
  const context = schemaContext(options);
  // Plugins fall back to the `defaults` section, so it is read first. When it is invalid, the
  // plugins are checked against the built-in defaults, and the full parse reports its problems.
  const defaults = readDefaults(input, context);
  const result = managerSchema(context, defaults).safeParse(input, PARSE_PARAMS);
  if (result.success) {
    validated.add(result.data);
    return result.data;
  }
  throw configError(result.error, 'manager', options.source);
}

/**
 * Validates one plugin's configuration (as given to `manager.register()`), its policy sections
 * falling back to `defaults` field by field. Same rules as in {@link parseConfig}; issue paths
 * are relative to the plugin (`retry.maxRetries`).
 *
 * @throws {ConfigError} listing every problem.
 */
export function parsePluginConfig(
  input: unknown,
  defaults: PolicyConfig,
  options: RegistryOptions = {},
): PluginConfig {
  const result = pluginSchema(schemaContext(options), defaults).safeParse(input, PARSE_PARAMS);
  if (result.success) return result.data;
  const error = configError(result.error, 'plugin', options.source);
  if (isRecord(input) && typeof input.name === 'string') annotateError(error, input.name);
  throw error;
}

/**
 * {@link parsePluginConfig} for many plugins: the schema is built once (building it costs far
 * more than a parse), then each call validates one plugin. Used by discovery's scans.
 */
export function pluginConfigParser(
  defaults: PolicyConfig,
  options: Omit<RegistryOptions, 'source'> = {},
): (input: unknown, source?: string) => PluginConfig {
  const schema = pluginSchema(schemaContext(options), defaults);
  return (input, source) => {
    const result = schema.safeParse(input, PARSE_PARAMS);
    if (result.success) return result.data;
    const error = configError(result.error, 'plugin', source);
    if (isRecord(input) && typeof input.name === 'string') annotateError(error, input.name);
    throw error;
  };
}

function schemaContext(options: RegistryOptions): SchemaContext {
  const registered = options.transports ?? new Map<string, TransportValidator>();
  return {
    kit: fieldKit(options.env ?? process.env),
    transports: new Set(registered.keys()),
    transportHint: options.transportHint,
    validators: registered,
    strategies: options.strategies === undefined ? undefined : new Set(options.strategies),
  };
}

function readDefaults(input: unknown, context: SchemaContext): PolicyConfig {
  if (!isRecord(input)) return DEFAULT_POLICY;
  const root = normaliseRoot(input, new Set(['defaults'])).value;
  const result = policySchema(context.kit, DEFAULT_POLICY).safeParse(root.defaults ?? {});
  return result.success ? result.data : DEFAULT_POLICY;
}

function configError(
  error: z.ZodError,
  scope: IssueScope,
  source: string | undefined,
): ConfigError {
  return new ConfigError(toConfigIssues(error.issues, scope), source);
}
