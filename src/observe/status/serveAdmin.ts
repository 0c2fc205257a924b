import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProbeHandler, type ProbeOptions, type ProbeSource } from '../../health/probe.js';
import { createStatusHandler, type StatusOptions } from './handler.js';
import type { StatusSource } from './view.js';

/** Options of {@link serveAdmin}. */
export interface ServeAdminOptions {
  /** What to show: a `Manager`. */
  manager: StatusSource & ProbeSource;
  /** Port to listen on; 0 picks a free one (see {@link AdminServer.port}). */
  port: number;
  /** Interface to bind. Default `127.0.0.1`: expose it on purpose, behind your own access control. */
  host?: string | undefined;
  /** The status page's options (path, title, actions). */
  status?: StatusOptions | undefined;
  /** The probes' options (`/readyz`, `/livez`, `/healthz`). */
  probes?: ProbeOptions | undefined;
}

/** A running admin server. */
export interface AdminServer {
  /** `http://host:port`, for logs and tests. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops listening and closes open connections (the page's keep-alive polls included). */
  close(): Promise<void>;
}

/**
 * Serves the status page (`/status`, `/status.json`) and the Kubernetes probes (`/readyz`,
 * `/livez`, `/healthz`) on their own HTTP server, for hosts without an HTTP server of their own.
 * Hosts that have one mount {@link createStatusHandler} and `createProbeHandler` instead.
 *
 * ```ts
 * const admin = await serveAdmin({ manager, port: 9090 });
 * // … at shutdown: await admin.close();
 * ```
 */
export async function serveAdmin(options: ServeAdminOptions): Promise<AdminServer> {
  const status = createStatusHandler(options.manager, options.status);
  const probes = createProbeHandler(options.manager, options.probes);
  const server = createServer((req, res) => status(req, res, () => probes(req, res)));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
