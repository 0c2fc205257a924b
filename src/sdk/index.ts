/**
 * plugwire/sdk: turn one handler `(request, ctx) => response` into a plugin on any transport.
 * @packageDocumentation
 */
export { applicationError, ErrorCode, PluginError, isPluginError } from '../errors.js';
export { jsonCodec } from '../codec.js';
export type { Handler, HandlerContext, ServeOptions, ServedPlugin } from './types.js';
export type { Codec, HealthStatus, PluginInfo } from '../types.js';
export { createServerTracer, withServerSpan } from '../observe/sdkTracing.js';
export type { ServerTracer, ServerTracingOptions } from '../observe/sdkTracing.js';
export type { OtelPropagatorLike, OtelTracerLike } from '../observe/peerTypes.js';
export { serveHttp } from './http.js';
export type { ServeHttpOptions } from './http.js';
export { serveUnix } from './unix.js';
export type { ServeUnixOptions } from './unix.js';
export { serveStdio } from './stdio.js';
export type { ServeStdioOptions, StdioPlugin } from './stdio.js';
export { serveGrpc } from './grpc.js';
export type { ServeGrpcOptions } from './grpc.js';
export type { AnnounceOptions } from './announce.js';
