import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendText } from '../internal/httpReply.js';

/** Serves one path of the admin server. May answer asynchronously; a throw becomes a bare 500. */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Where an admin server listens. */
export interface AdminAddress {
  /** The address it is bound to, e.g. `127.0.0.1` or `::1`. */
  host: string;
  /** The bound port (the real one when port 0 was asked for). */
  port: number;
  /** Its base URL, e.g. `http://127.0.0.1:9090` (IPv6 hosts in brackets). */
  url: string;
}

/**
 * A small HTTP server that answers from a route table (exact paths, a trailing slash ignored,
 * the query string left to the route). Unknown paths get 404. It owns its connections: `close()`
 * ends keep-alive connections too, so that a host exits once its manager has shut down.
 *
 * It knows nothing of what it serves: `serveAdmin()` mounts the status page and the probes, the
 * manager's `metrics_port` endpoint mounts `/metrics`, the probes and the read-only status page,
 * and a host may add its own paths with {@link AdminServer.mount}.
 */
export class AdminServer {
  private readonly routes = new Map<string, AdminRoute>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    /** The bound address. */
    readonly address: AdminAddress,
  ) {}

  /**
   * Listens on `host:port` (`port` 0: a free port, see {@link AdminServer.address}).
   * Rejects with the listen error (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`…).
   */
  static async listen(host: string, port: number): Promise<AdminServer> {
    let admin: AdminServer | undefined;
    const server = createServer((req, res) => admin?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A server error after listening (rare: the socket failed) must not crash the host.
    server.on('error', () => undefined);
    const bound = server.address() as AddressInfo;
    const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    admin = new AdminServer(server, {
      host: bound.address,
      port: bound.port,
      url: `http://${shown}:${bound.port}`,
    });
    return admin;
  }

  /** The base URL, e.g. `http://127.0.0.1:9090`. */
  get url(): string {
    return this.address.url;
  }

  /** Serves `path` with `route` (replacing the route of that path, if any). */
  mount(path: string, route: AdminRoute): void {
    this.routes.set(path, route);
  }

  /** Stops listening and ends every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const route = this.routes.get(path);
    if (route === undefined) return sendText(res, 404, 'not found\n');
    let answered: void | Promise<void>;
    try {
      answered = route(req, res);
    } catch {
      return sendText(res, 500, 'internal error\n');
    }
    if (answered instanceof Promise) {
      answered.catch(() => sendText(res, 500, 'internal error\n'));
    }
  }
}
