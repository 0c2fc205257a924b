/**
 * The configuration front door: validate a config (object or file) into the complete model.
 * @module
 */
export { parseConfig, parsePluginConfig, type ParseOptions } from './parse.js';
export { loadConfigFile } from './load.js';
export { parseDuration, parseSize } from './duration.js';
export type { TransportValidator } from './plugin-schema.js';
export { BUILTIN_TRANSPORTS } from './transport-rules.js';
export { AUTH_METHODS } from './auth-schema.js';
export {
  DEFAULT_POLICY,
  DEFAULT_READINESS,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STARTUP_CONCURRENCY,
  pluginConfig,
} from './defaults.js';
export type * from './types.js';
