import type { PluginConfig } from '../../config/types.js';

const URL_SCHEMES = /^(grpcs?|https?|tcp):\/\//i;
const GRPC_SCHEMES = /^(unix|unix-abstract|dns|ipv4|ipv6):/i;
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^\s/:[\]]+):(\d{1,5})$/i;

/**
 * The grpc-js target for a plugin's config, e.g. `127.0.0.1:50051`, `dns:///svc:443` or
 * `unix:/run/plugin.sock`. Accepted forms:
 * - `host:port`, `[::1]:port`
 * - `grpc://host:port` (also `grpcs://`, `http(s)://`, `tcp://`): the scheme is dropped, since
 *   the transport (`grpc` or `grpc-tls`) decides on TLS; a URL without a port is rejected
 * - a gRPC target as is: `unix:/path`, `unix:///path`, `unix-abstract:name`, `dns:…`, `ipv4:…`
 * - an absolute path, or the `socketPath` field: a Unix socket
 *
 * Throws a `TypeError` that says what is wrong; {@link grpcTargetProblem} turns it into a
 * config issue.
 */
export function grpcTarget(config: Pick<PluginConfig, 'endpoint' | 'socketPath'>): string {
  if (config.socketPath) return `unix:${config.socketPath}`;
  const endpoint = config.endpoint?.trim();
  if (!endpoint) {
    throw new TypeError(
      'is required for the grpc transport (host:port, grpc://host:port or unix:/path/to.sock)',
    );
  }
  if (GRPC_SCHEMES.test(endpoint)) return endpoint;
  if (endpoint.startsWith('/')) return `unix:${endpoint}`;
  if (URL_SCHEMES.test(endpoint)) return fromUrl(endpoint);
  if (HOST_PORT.test(endpoint)) return endpoint;
  throw new TypeError(
    `"${endpoint}" is not a gRPC endpoint; use host:port, grpc://host:port or unix:/path/to.sock`,
  );
}

/** The problem with a plugin's gRPC endpoint, or undefined when it is usable. */
export function grpcTargetProblem(
  config: Pick<PluginConfig, 'endpoint' | 'socketPath'>,
): string | undefined {
  try {
    grpcTarget(config);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

function fromUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`"${endpoint}" is not a valid URL`);
  }
  if (url.username || url.password) {
    throw new TypeError('must not carry credentials; use the auth section');
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new TypeError(`gRPC endpoints have no path (got "${url.pathname}")`);
  }
  // WHATWG URLs drop the default port of http(s), so `https://host:443` arrives without one.
  const port = url.port || DEFAULT_PORTS[url.protocol];
  if (!port) {
    throw new TypeError(`"${url.host}" needs a port (for example ${url.hostname}:50051)`);
  }
  return `${url.hostname}:${port}`;
}
