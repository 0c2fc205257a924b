export { httpFactory } from './factory.js';
export { HttpPlugin } from './plugin.js';
