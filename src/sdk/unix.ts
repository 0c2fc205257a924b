import type { Handler, ServeUnixOptions, ServedPlugin } from './types.js';

export type { ServeUnixOptions } from './types.js';

/**
 * Serves `handler` as a plugin on a Unix domain socket, speaking plugwire's newline-JSON
 * protocol (docs/protocol/unix.md). Each connection carries many requests at once; replies go
 * out as they are ready, matched by `request_id`. A `cancel` from the host aborts that request's
 * `ctx.signal`.
 *
 * ```ts
 * const served = await serveUnix(async (req) => ({ echo: req }), { path: '/run/echo.sock' });
 * // host config: { name: 'echo', transport: 'unix', endpoint: 'unix:///run/echo.sock' }
 * ```
 *
 * The socket file is owner-only (`0o600`) unless {@link ServeUnixOptions.mode} says otherwise.
 *
 * @returns the running server; its `endpoint` is the socket path. `close()` stops accepting
 * connections, lets in-flight requests finish (up to `timeoutMs`, default 5 s), then aborts them,
 * closes every connection and removes the socket file.
 */
export async function serveUnix<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeUnixOptions,
): Promise<ServedPlugin> {
  const { startUnixServer } = await import('./unixServer.js');
  return startUnixServer(handler, options);
}
