export { execFactory } from './factory.js';
export { ExecPlugin, DEFAULT_EXEC_TIMINGS } from './ExecPlugin.js';
export type { ExecTimings } from './ExecPlugin.js';
