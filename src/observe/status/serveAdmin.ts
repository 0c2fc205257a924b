import { createProbeHandler, type ProbeOptions, type ProbeSource } from '../../health/probe.js';
import { AdminServer } from '../adminServer.js';
import { createStatusHandler, statusPaths, type StatusOptions } from './handler.js';
import type { StatusSource } from './view.js';

/** Options of {@link serveAdmin}. */
export interface ServeAdminOptions {
  /** What to show: a `Manager`. */
  manager: StatusSource & ProbeSource;
  /** Port to listen on; 0 picks a free one (see `AdminServer.address`). */
  port: number;
  /** Interface to bind. Default `127.0.0.1`: expose it on purpose, behind your own access control. */
  host?: string | undefined;
  /** The status page's options (path, title, actions). */
  status?: StatusOptions | undefined;
  /** The probes' options (`/readyz`, `/livez`, `/healthz`). */
  probes?: ProbeOptions | undefined;
}

/** The probe paths every admin server answers. */
export const PROBE_PATHS: readonly string[] = ['/readyz', '/livez', '/healthz'];

/** Mounts the status page (its page, JSON and, when enabled, action paths) on `server`. */
export function mountStatus(
  server: AdminServer,
  source: StatusSource,
  options: StatusOptions = {},
): void {
  const status = createStatusHandler(source, options);
  for (const path of statusPaths(options)) server.mount(path, (req, res) => status(req, res));
}

/**
 * Serves the status page (`/status`, `/status.json`) and the Kubernetes probes (`/readyz`,
 * `/livez`, `/healthz`) on their own HTTP server, for hosts without an HTTP server of their own.
 * Hosts that have one mount {@link createStatusHandler} and `createProbeHandler` instead; a
 * config's `metrics_port` server serves the read-only page too.
 *
 * ```ts
 * const admin = await serveAdmin({ manager, port: 9090 });
 * console.log(admin.url); // http://127.0.0.1:9090
 * // … at shutdown: await admin.close();
 * ```
 */
export async function serveAdmin(options: ServeAdminOptions): Promise<AdminServer> {
  const server = await AdminServer.listen(options.host ?? '127.0.0.1', options.port);
  mountStatus(server, options.manager, options.status);
  const probes = createProbeHandler(options.manager, options.probes);
  for (const path of PROBE_PATHS) server.mount(path, probes);
  return server;
}
