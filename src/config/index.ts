/**
 * The configuration front door: validate a config (object or file) into the complete model.
 * @module
 */
export { parseConfig, parsePluginConfig, type ParseOptions } from './parse.js';
export { loadConfigFile } from './load.js';
export { parseDuration, parseSize } from './duration.js';
export type { TransportValidator } from '../types.js';
export type * from './types.js';
