import type { ConnectionOptions } from 'node:tls';
import { Pool } from 'undici';
import type { ConnectionConfig } from '../../config/types.js';
import { settlesWithin } from '../../internal/timeout.js';

/**
 * How long an idle keep-alive socket is kept. Below the idle timeout of common servers (Node 5 s,
 * nginx 75 s, Go 90 s): reusing a socket the server is closing at that moment fails the request
 * with ECONNRESET.
 */
const KEEP_ALIVE_MS = 4_000;

/** Grace `close()` gives in-flight requests before their sockets are destroyed. */
export const CLOSE_GRACE_MS = 1_000;

/**
 * One undici `Pool` for one origin, sized by `connection.maxConnections`. undici's own header
 * and body timeouts are off: the call's AbortSignal carries the deadline, so that one clock (the
 * manager's) decides when an attempt is over.
 */
export function createPool(
  origin: string,
  connection: ConnectionConfig,
  tls: ConnectionOptions | undefined,
): Pool {
  const idle = connection.idleTimeout > 0 ? connection.idleTimeout : KEEP_ALIVE_MS;
  const keepAliveTimeout = Math.min(KEEP_ALIVE_MS, idle);
  return new Pool(origin, {
    connections: connection.maxConnections > 0 ? connection.maxConnections : null,
    connectTimeout: connection.connectionTimeout,
    keepAliveTimeout,
    // A server's `Keep-Alive: timeout=…` hint may lengthen it, up to our idle timeout.
    keepAliveMaxTimeout: Math.max(keepAliveTimeout, idle),
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(tls ? { connect: tls } : {}),
  });
}

/**
 * Closes a pool: waits for in-flight requests up to `graceMs`, then destroys what is left, so
 * that `close()` always ends and never leaves a socket open.
 */
export async function closePool(pool: Pool | undefined, graceMs: number): Promise<void> {
  if (!pool || pool.destroyed) return;
  if (!(await settlesWithin(pool.close(), graceMs))) await pool.destroy().catch(() => {});
}
