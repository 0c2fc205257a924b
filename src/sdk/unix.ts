import type { Handler, ServeOptions, ServedPlugin } from './types.js';

/** Options of {@link serveUnix}. */
export interface ServeUnixOptions extends ServeOptions {
  /** Filesystem path of the socket. A stale socket file left by a dead server is removed. */
  path: string;
  /**
   * Permission bits of the socket file, set right after it is created. Whoever may write to the
   * socket may call the plugin, so the default is `0o600`: the server's own user only. Use
   * `0o660` to admit the socket's group (run the host in that group), never more than needed.
   * The socket is created under the process umask first (commonly 0755, which already refuses
   * other users' connections); keep it in a directory only its users can enter for a guarantee
   * without that instant.
   */
  mode?: number;
}

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
