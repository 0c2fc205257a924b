import type { ServerResponse } from 'node:http';
import { ConfigError, ErrorCode, errnoCode } from '../errors.js';
import { createProbeHandler, type ProbeSource } from '../health/probe.js';
import { sendText } from '../internal/httpReply.js';
import { AdminServer, type AdminAddress } from './adminServer.js';
import type { PrometheusRegistryLike } from './peerTypes.js';
import { mountStatus, PROBE_PATHS } from './status/serveAdmin.js';
import type { StatusSource } from './status/view.js';
import { collectPrometheus, type MetricsSource, type PrometheusCollector } from './prometheus.js';

/** Where the metrics server should listen: go-plugins' `metrics_port`, plugwire's `metricsHost`. */
export interface MetricsEndpointSettings {
  /** 0: no server. */
  port: number;
  host: string;
}

/** The registry the server reads; prom-client's `Registry` (not named, to keep it a lazy peer). */
interface TextRegistry extends PrometheusRegistryLike {
  metrics(): Promise<string>;
  readonly contentType: string;
}

interface Running {
  settings: MetricsEndpointSettings;
  server: AdminServer;
  collector: PrometheusCollector;
}

/**
 * The HTTP server a config asks for with `metrics_port`: `/metrics` (Prometheus text, through
 * prom-client, in a registry of its own so that it never clashes with the host's) and the probe
 * endpoints of `createProbeHandler()`. The manager owns it: it follows the config through
 * reloads and closes at shutdown.
 */
export class MetricsEndpoint {
  private running: Running | undefined;
  private closed = false;

  constructor(private readonly source: MetricsSource & ProbeSource & StatusSource) {}

  /** Where it listens, once listening. */
  address(): AdminAddress | undefined {
    return this.running?.server.address;
  }

  /**
   * Brings the server to `settings`: nothing when they are unchanged, a new server (then the
   * old one closed) when they changed, no server for port 0. On failure the server running
   * before keeps running and a {@link ConfigError} at `metricsPort` says why.
   */
  async configure(settings: MetricsEndpointSettings, source?: string): Promise<void> {
    const current = this.running;
    if (this.closed || sameSettings(current?.settings, settings)) return;
    if (settings.port === 0) {
      this.running = undefined;
      await stop(current);
      return;
    }
    // The same port on another host address may collide with the running server: free it
    // first, and bring it back should the new one fail.
    const samePort = current !== undefined && current.settings.port === settings.port;
    if (samePort) await stop(current);
    let started: Running;
    try {
      started = await this.start(settings, source);
    } catch (error) {
      if (samePort)
        this.running = await this.start(current.settings, source).catch(() => undefined);
      throw error;
    }
    if (this.closed) return void (await stop(started)); // shut down meanwhile
    this.running = started;
    if (!samePort) await stop(current);
  }

  /** Closes the server for good (manager shutdown). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.running;
    this.running = undefined;
    await stop(current);
  }

  private async start(settings: MetricsEndpointSettings, source?: string): Promise<Running> {
    const registry = await newRegistry(source);
    let server: AdminServer;
    try {
      server = await AdminServer.listen(settings.host, settings.port);
    } catch (error) {
      throw problem(
        `cannot listen on ${settings.host}:${settings.port} (${errnoCode(error) ?? String(error)}): choose a free port, or set metrics_port to 0 to serve no metrics`,
        source,
        error,
      );
    }
    const collector = await collectPrometheus(this.source, {
      registry,
    });
    server.mount('/metrics', (req, res) => serveMetrics(registry, req.method, res));
    const probes = createProbeHandler(this.source);
    for (const path of PROBE_PATHS) server.mount(path, probes);
    mountStatus(server, this.source); // read-only: actions need a token only the host can give
    return { settings, server, collector };
  }
}

function sameSettings(a: MetricsEndpointSettings | undefined, b: MetricsEndpointSettings): boolean {
  return a === undefined ? b.port === 0 : a.port === b.port && a.host === b.host;
}

async function stop(running: Running | undefined): Promise<void> {
  if (running === undefined) return;
  running.collector.stop();
  await running.server.close();
}

async function newRegistry(source: string | undefined): Promise<TextRegistry> {
  let promClient: { Registry: new () => TextRegistry };
  try {
    promClient = (await import('prom-client')) as unknown as typeof promClient;
  } catch (error) {
    throw problem(
      'serving /metrics needs the optional peer dependency prom-client: npm install prom-client (or set metrics_port to 0)',
      source,
      error,
    );
  }
  return new promClient.Registry();
}

async function serveMetrics(
  registry: TextRegistry,
  method: string | undefined,
  res: ServerResponse,
): Promise<void> {
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendText(res, 405, 'method not allowed\n');
  }
  const text = await registry.metrics();
  res.statusCode = 200;
  res.setHeader('Content-Type', registry.contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(method === 'HEAD' ? undefined : text);
}

function problem(message: string, source: string | undefined, cause: unknown): ConfigError {
  return new ConfigError(
    [{ path: 'metricsPort', message, code: ErrorCode.InvalidConfig }],
    source,
    {
      cause,
    },
  );
}
