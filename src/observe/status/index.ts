/**
 * The operators' status page: a request handler, and a small server for hosts without one.
 * @module
 */
export {
  createStatusHandler,
  type StatusActions,
  type StatusHandler,
  type StatusOptions,
} from './handler.js';
export { serveAdmin, type ServeAdminOptions } from './serveAdmin.js';
export type { GroupStatus, PluginStatus, StatusDocument, StatusSource } from './view.js';
