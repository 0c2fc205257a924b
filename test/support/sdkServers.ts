import { join } from 'node:path';
import { serveGrpc, serveHttp, serveUnix } from '../../src/sdk/index.js';
import type { Handler, ServedPlugin } from '../../src/sdk/index.js';

/** The SDK's network servers, by the transport a host reaches them with. */
export type NetworkTransport = 'http' | 'grpc' | 'unix';
export const NETWORK_TRANSPORTS: readonly NetworkTransport[] = ['http', 'grpc', 'unix'];

/** `serveHttp`, `serveGrpc` or `serveUnix`: the SDK function's name, for test titles. */
export const serveName = (transport: NetworkTransport): string =>
  `serve${transport === 'http' ? 'Http' : transport === 'grpc' ? 'Grpc' : 'Unix'}`;

/**
 * Serves `handler` with the SDK server of `transport` (Unix: on `socket` in `dir`), and the
 * endpoint a host config names it by.
 */
export async function serveOn<Req, Resp>(
  transport: NetworkTransport,
  handler: Handler<Req, Resp>,
  dir: string,
  socket = 'plugin.sock',
): Promise<{ served: ServedPlugin; endpoint: string }> {
  const served =
    transport === 'http'
      ? await serveHttp(handler)
      : transport === 'grpc'
        ? await serveGrpc(handler)
        : await serveUnix(handler, { path: join(dir, socket) });
  return { served, endpoint: transport === 'unix' ? `unix://${served.endpoint}` : served.endpoint };
}
