import type { Handler, ServeHttpOptions, ServedPlugin } from './types.js';

export type { ServeHttpOptions } from './types.js';

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
