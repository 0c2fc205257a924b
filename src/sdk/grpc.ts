import { ErrorCode } from '../errors.js';
import { LazyModule } from '../transport/lazy.js';
import type { Handler, ServeGrpcOptions, ServedPlugin } from './types.js';

export type { ServeGrpcOptions } from './types.js';

// @grpc/grpc-js is loaded by the first serveGrpc(), not by `import 'plugwire/sdk'`.
const server = new LazyModule(
  'grpc',
  ['@grpc/grpc-js'],
  ErrorCode.GRPCTransportError,
  () => import('./grpcServer.js'),
);

/**
 * Serves `handler` as a gRPC plugin: `plugwire.v1.Plugin` (proto/plugin.proto) and the standard
 * `grpc.health.v1.Health/Check`, as docs/protocol/grpc.md describes.
 *
 * ```ts
 * const served = await serveGrpc(async (req: { n: number }) => ({ double: req.n * 2 }), { port: 50051 });
 * // host config: { name: 'doubler', transport: 'grpc', endpoint: served.endpoint }
 * ```
 *
 * The handler's signal aborts when the host's gRPC deadline passes or the host cancels the call.
 * `throw applicationError(msg)` answers "no" (`ExecuteResponse.error`); any other throw ends
 * the call with UNAVAILABLE when the error looks transient (the host retries) or INTERNAL.
 * Health answers SERVING while `options.health` says healthy (or degraded), for the service
 * names `""`, `plugwire.v1.Plugin` and the `info.name`; other names get NOT_FOUND.
 *
 * @returns the running server; `endpoint` is `127.0.0.1:<port>` or `unix:<path>`. `close()`
 * stops accepting calls, lets in-flight ones finish up to `timeoutMs` (default 5 s), then
 * cancels them (their handlers' signals abort) and closes every connection.
 */
export async function serveGrpc<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeGrpcOptions = {},
): Promise<ServedPlugin> {
  const { startGrpcServer } = await server.load();
  return startGrpcServer(handler, options);
}
