import type { AnnounceOptions } from './announce.js';
import type { Handler, ServeOptions, ServedPlugin } from './types.js';

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions extends ServeOptions {
  /** Interface to listen on. Default `127.0.0.1` (local only); `0.0.0.0` or `::` for all. */
  host?: string | undefined;
  /** Port to listen on; `0` (default) picks a free one, see {@link ServedPlugin.endpoint}. */
  port?: number | undefined;
  /** Path of the execute route; health and info live under it. Default `/`. */
  path?: string | undefined;
  /** Serve HTTPS (TLS 1.2+). `requestCert: true` requires a client certificate signed by `ca` (mTLS). */
  tls?:
    | {
        cert: string | Buffer;
        key: string | Buffer;
        ca?: string | Buffer | undefined;
        requestCert?: boolean | undefined;
      }
    | undefined;
  /** Largest request body accepted, bytes; larger requests get 413. Default 16 MiB. */
  maxRequestBytes?: number | undefined;
  /** Register in a group of the hosts' cluster registry (docs/cluster.md). Needs `ioredis`. */
  announce?: AnnounceOptions | undefined;
}

/**
 * Serves `handler` as a plugin over HTTP(S), speaking the wire format of docs/protocol/http.md:
 * `POST <path>` runs the handler, `GET <path>/health` and `GET <path>/info` answer the host's
 * health checks and info requests.
 *
 * ```ts
 * const served = await serveHttp(async (req: { n: number }) => ({ double: req.n * 2 }), { port: 8080 });
 * // host config: { name: 'doubler', transport: 'http', endpoint: served.endpoint }
 * ```
 *
 * The handler's signal aborts when the host's `timeout` passes (a Go duration string such as
 * `"2.5s"`, as go-plugins sends it, or a number of milliseconds) or the host goes away (closes
 * the connection). `throw applicationError(msg)` answers "no" (200 with `error`); any other throw is
 * a 500 whose `retryable` says whether the error looked transient.
 *
 * @returns the running server; `close()` stops accepting requests, lets in-flight ones finish up
 * to `timeoutMs` (default 5 s), then closes every connection.
 */
export async function serveHttp<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeHttpOptions = {},
): Promise<ServedPlugin> {
  const { startHttpServer } = await import('./httpServer.js');
  return startHttpServer(handler, options);
}
