export { grpcFactory } from './factory.js';
export { GrpcPlugin } from './plugin.js';
export { GRPC_DEFAULTS } from './options.js';
export type { GrpcOptions } from './options.js';
export { HEALTH_SERVICE, PLUGIN_SERVICE } from './methods.js';
