export { unixFactory } from './factory.js';
export { UnixPlugin } from './UnixPlugin.js';
export { socketPathOf } from './socketPath.js';
