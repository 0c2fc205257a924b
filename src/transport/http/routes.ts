import type { PluginConfig } from '../../config/types.js';

/** Where a plugin's execute, health and info requests go. */
export interface HttpRoutes {
  /** `scheme://host:port` of the endpoint: one connection pool per origin. */
  origin: string;
  /** Path (and query) of `POST` execute requests. */
  executePath: string;
  /** Health check URL; its origin may differ from {@link origin} when configured so. */
  health: URL;
  /** Path of `GET` info requests. */
  infoPath: string;
}

/**
 * Works out the routes from `endpoint` and `healthCheck.endpoint`. The health endpoint defaults
 * to `<endpoint>/health`; when given, it is resolved like a link against the endpoint, so
 * `/health` is relative to the origin and an absolute URL is used as it is.
 */
export function httpRoutes(config: PluginConfig): HttpRoutes {
  const endpoint = new URL(config.endpoint ?? '');
  // Credentials in the URL are not sent (auth has its own section) and must not leak in logs.
  endpoint.username = '';
  endpoint.password = '';
  const base = endpoint.pathname.replace(/\/+$/, '');
  const health = config.healthCheck.endpoint
    ? new URL(config.healthCheck.endpoint, endpoint)
    : new URL(`${base}/health`, endpoint.origin);
  return {
    origin: endpoint.origin,
    executePath: `${endpoint.pathname}${endpoint.search}`,
    health,
    infoPath: `${base}/info`,
  };
}
