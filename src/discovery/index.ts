/**
 * Plugin discovery: directories scanned for plugins, manifests, checksums checked before each
 * spawn, watch mode. See docs/discovery.md.
 * @module
 */
export type { DiscoveryStats } from './Discovery.js';
export { DEFAULT_DISCOVERY } from '../config/defaults.js';
