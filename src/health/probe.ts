import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthStatus } from '../types.js';
import { READINESS_SUMMARY, type ReadinessReport } from './readiness.js';
import { sendJson } from '../internal/httpReply.js';

/** What the probe endpoints read. A `Manager` satisfies it. */
export interface ProbeSource {
  /** The cached readiness report; must not block. */
  readiness(): ReadinessReport;
  /** The last known health of every plugin; must not block. */
  health(): Record<string, HealthStatus>;
  /** True once shutdown started: every probe then fails. */
  isShuttingDown?(): boolean;
}

/** Options of {@link createProbeHandler}. */
export interface ProbeOptions {
  /**
   * Always include the detail (plugin names, states, errors). Default false: a minimal body that
   * names no plugin, endpoint or version.
   */
  verbose?: boolean | undefined;
  /**
   * Honour `?verbose` in the query to include the detail on demand. Default true; set false when
   * the probe port is reachable by people who should not read plugin names and errors.
   */
  verboseQuery?: boolean | undefined;
  /** Paths served; defaults `/readyz`, `/livez`, `/healthz`. */
  paths?: { ready?: string; live?: string; health?: string } | undefined;
}

/** A Node request handler; `next` (Express, Connect) receives requests for other paths. */
export type ProbeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

type Probe = 'ready' | 'live' | 'health';

/**
 * Serves Kubernetes probes from a {@link ProbeSource} (the `Manager`):
 *
 * - `GET|HEAD /readyz`: 200 when `readiness().ready`, else 503 with a reason that names no plugin.
 * - `GET|HEAD /livez`: 200 unless the manager is shutting down. Never depends on plugins: a dead
 *   plugin is no reason to restart the host.
 * - `GET|HEAD /healthz`: 200 unless an enabled initial plugin or a required plugin is `offline`
 *   (or the manager is shutting down); `unhealthy` and `degraded` plugins still answer 200.
 *
 * Bodies are JSON (`{"status":"ok"}`), `Cache-Control: no-store`. Detail (the readiness report,
 * per-plugin health) only with the `verbose` option or `?verbose`. Other paths go to `next()`
 * when given, else 404; other methods on a probe path get 405.
 *
 * ```ts
 * http.createServer(createProbeHandler(manager)).listen(8081);          // a probe port
 * app.use(createProbeHandler(manager));                                 // Express
 * fastify.get('/readyz', (req, reply) => { reply.hijack(); handler(req.raw, reply.raw); });
 * ```
 */
export function createProbeHandler(source: ProbeSource, options: ProbeOptions = {}): ProbeHandler {
  const routes = new Map<string, Probe>([
    [options.paths?.ready ?? '/readyz', 'ready'],
    [options.paths?.live ?? '/livez', 'live'],
    [options.paths?.health ?? '/healthz', 'health'],
  ]);
  const alwaysVerbose = options.verbose === true;
  const verboseQuery = options.verboseQuery !== false;

  return (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const probe = routes.get(path);
    if (probe === undefined) {
      if (next !== undefined) next();
      else sendJson(req, res, 404, { status: 'not found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(req, res, 405, { status: 'method not allowed' });
      return;
    }
    const verbose = alwaysVerbose || (verboseQuery && q !== -1 && asksVerbose(url.slice(q + 1)));
    try {
      const [code, body] = answer(probe, source, verbose);
      sendJson(req, res, code, body);
    } catch {
      // A probe must answer, and must not leak what broke.
      sendJson(req, res, 503, { status: 'error' });
    }
  };
}

function answer(probe: Probe, source: ProbeSource, verbose: boolean): [number, object] {
  const closing = source.isShuttingDown?.() === true;
  if (probe === 'live') {
    return closing ? [503, { status: 'shutting down' }] : [200, { status: 'ok' }];
  }
  if (probe === 'ready') {
    if (closing) return [503, { status: 'not ready', reason: READINESS_SUMMARY['shutting-down'] }];
    const report = source.readiness();
    const body = report.ready
      ? { status: 'ok' }
      : { status: 'not ready', reason: READINESS_SUMMARY[report.code] };
    return [report.ready ? 200 : 503, verbose ? { ...body, ...detail(report) } : body];
  }
  if (closing) return [503, { status: 'shutting down' }];
  const report = source.readiness();
  const health = source.health();
  const offline = watched(report).filter((name) => health[name]?.status === 'offline');
  const body =
    offline.length === 0
      ? { status: 'ok' }
      : { status: 'unhealthy', reason: 'an initial or required plugin is offline' };
  if (!verbose) return [offline.length === 0 ? 200 : 503, body];
  const plugins = Object.fromEntries(
    Object.entries(health).map(([name, h]) => [
      name,
      // Metadata may carry versions: it stays out even of the verbose body.
      {
        status: h.status,
        message: h.message,
        lastCheck: h.lastCheck,
        responseTimeMs: h.responseTimeMs,
      },
    ]),
  );
  return [offline.length === 0 ? 200 : 503, { ...body, offline, plugins }];
}

/** The plugins whose going offline fails `/healthz`: enabled initial ones, and required ones. */
function watched(report: ReadinessReport): string[] {
  const names = new Set(
    Object.entries(report.initial.plugins)
      .filter(([, p]) => p.enabled)
      .map(([name]) => name),
  );
  for (const name of Object.keys(report.required)) names.add(name);
  return [...names];
}

function detail(report: ReadinessReport): object {
  return {
    code: report.code,
    detail: report.reason,
    policy: report.policy,
    initial: report.initial,
    runtime: report.runtime,
    required: report.required,
  };
}

function asksVerbose(query: string): boolean {
  const params = new URLSearchParams(query);
  if (!params.has('verbose')) return false;
  const value = params.get('verbose')!.toLowerCase();
  return value !== '0' && value !== 'false';
}
