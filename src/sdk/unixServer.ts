/**
 * The unix server of the SDK, imported by `serveUnix()` when it is first called: a plugin
 * served over another transport (an exec plugin, above all) never loads it.
 */
import type { ServeUnixOptions } from './types.js';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { jsonCodec } from '../codec.js';
import { silentLogger } from '../observe/logger.js';
import { handlerTracing } from '../observe/sdkTracing.js';
import { ServeSession } from './ServeSession.js';
import type { Handler, ServedPlugin } from './types.js';
import { settlesWithin } from '../internal/timeout.js';

/** @internal {@link serveUnix}, imported on first use. */
export async function startUnixServer<Req = unknown, Resp = unknown>(
  handler: Handler<Req, Resp>,
  options: ServeUnixOptions,
): Promise<ServedPlugin> {
  const mode = options.mode ?? 0o600;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new RangeError(`serveUnix: mode must be permission bits between 0 and 0o777`);
  }
  await removeStaleSocket(options.path);
  const tracing = await handlerTracing(options);
  const sessions = new Map<Socket, ServeSession>();
  const codec = options.codec ?? jsonCodec;
  const logger = options.logger ?? silentLogger;
  // allowHalfOpen: a host that ends its side still gets the replies to what it sent.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const session: ServeSession = new ServeSession({
      handler: handler as Handler<unknown, unknown>,
      tracing,
      serve: options,
      codec,
      logger,
      input: socket,
      output: socket,
      onFinished: () => socket.end(),
    });
    sessions.set(socket, session);
    socket.on('error', (error) => logger.debug({ error: error.message }, 'unix connection error'));
    socket.on('close', () => {
      sessions.delete(socket);
      session.detach();
      session.abortAll(new Error('connection closed'));
    });
  });
  await listen(server, options.path);
  try {
    await chmod(options.path, mode);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  server.on('error', (error) => logger.error({ error: error.message }, 'unix server error'));

  let closing: Promise<void> | undefined;
  return {
    endpoint: options.path,
    close(closeOptions?: { timeoutMs?: number }): Promise<void> {
      closing ??= closeServer(server, sessions, options.path, closeOptions?.timeoutMs ?? 5_000);
      return closing;
    },
  };
}

async function closeServer(
  server: Server,
  sessions: Map<Socket, ServeSession>,
  path: string,
  timeoutMs: number,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const session of sessions.values()) session.refuseNew();
  await settlesWithin(Promise.all([...sessions.values()].map((s) => s.idle())), timeoutMs);
  for (const [socket, session] of sessions) {
    session.abortAll(new Error('plugin server closed'));
    socket.destroy();
  }
  await closed;
  await unlink(path).catch(() => {});
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Removes a socket file no server listens on any more (left by a crash). A live socket, or a
 * path that is not a socket, is left alone: `listen` then fails with EADDRINUSE.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat?.isSocket()) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (!alive) await unlink(path).catch(() => {});
}
