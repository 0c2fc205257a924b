import { ErrorCode } from '../errors.js';
import type { Problem } from './issues.js';
import { closest } from './keys.js';
import type { BuiltinTransport, PluginConfig } from './types.js';

/** The transports plugwire ships with. */
export const BUILTIN_TRANSPORTS: readonly BuiltinTransport[] = [
  'http',
  'https',
  'grpc',
  'grpc-tls',
  'unix',
  'exec',
];

const BUILTIN = new Set<string>(BUILTIN_TRANSPORTS);

type Valid = (...path: PropertyKey[]) => boolean;

/**
 * What each transport needs to reach its plugin: an http(s) URL, a gRPC target, a socket path,
 * an executable. Files (certificates, sockets, executables) are not looked for: they may appear
 * after the config is read.
 */
export function checkTransport(
  plugin: PluginConfig,
  valid: Valid,
  supported: ReadonlySet<string>,
): Problem[] {
  if (!valid('transport')) return [];
  const transport = plugin.transport;
  if (!supported.has(transport)) {
    const hint = closest(transport, supported);
    return [
      {
        path: ['transport'],
        code: ErrorCode.UnsupportedTransport,
        message: `unsupported transport "${transport}"${hint ? ` (did you mean "${hint}"?)` : ''}; supported: ${[...supported].join(', ')}`,
      },
    ];
  }
  switch (transport) {
    case 'http':
    case 'https':
      return valid('endpoint') ? checkHttpEndpoint(transport, plugin.endpoint) : [];
    case 'grpc':
    case 'grpc-tls':
      return valid('endpoint') ? checkGrpcEndpoint(transport, plugin.endpoint) : [];
    case 'unix':
      return valid('endpoint') && valid('socketPath') ? checkSocket(plugin) : [];
    case 'exec':
      return valid('executable') && plugin.executable === undefined
        ? [
            {
              path: ['executable'],
              code: ErrorCode.MissingExecutable,
              message: 'transport "exec" needs the path of the program to run',
            },
          ]
        : [];
    default:
      return [];
  }
}

/** mTLS authenticates over TLS; on a plain transport it would silently send nothing. */
export function checkAuthFitsTransport(plugin: PluginConfig, valid: Valid): Problem[] {
  if (!valid('transport') || !valid('auth', 'method')) return [];
  if (plugin.auth.method !== 'mtls' || !BUILTIN.has(plugin.transport)) return [];
  if (plugin.transport === 'https' || plugin.transport === 'grpc-tls') return [];
  return [
    {
      path: ['auth', 'method'],
      message: `mtls needs a TLS transport ("https" or "grpc-tls"), not "${plugin.transport}"`,
    },
  ];
}

function missingEndpoint(transport: string, example: string): Problem {
  return {
    path: ['endpoint'],
    code: ErrorCode.MissingEndpoint,
    message: `transport "${transport}" needs an endpoint, e.g. ${example}`,
  };
}

function checkHttpEndpoint(transport: 'http' | 'https', endpoint: string | undefined): Problem[] {
  if (endpoint === undefined) {
    return [missingEndpoint(transport, `${transport}://plugin.internal:8080/api`)];
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [
      {
        path: ['endpoint'],
        code: ErrorCode.InvalidEndpointURL,
        message: `is not a valid URL; expected e.g. ${transport}://plugin.internal:8080/api`,
      },
    ];
  }
  if (url.protocol !== `${transport}:`) {
    return [
      {
        path: ['endpoint'],
        code: ErrorCode.InvalidEndpointURL,
        message: `transport "${transport}" needs a ${transport}:// URL`,
      },
    ];
  }
  return [];
}

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/;

function checkGrpcEndpoint(
  transport: 'grpc' | 'grpc-tls',
  endpoint: string | undefined,
): Problem[] {
  if (endpoint === undefined) return [missingEndpoint(transport, 'plugin.internal:50051')];
  if (isGrpcTarget(endpoint)) return [];
  return [
    {
      path: ['endpoint'],
      code: ErrorCode.InvalidEndpointFormat,
      message:
        'expected a gRPC target: "host:port", "grpc://host:port", "dns:///host:port" or "unix:/path/to.sock"',
    },
  ];
}

function isGrpcTarget(endpoint: string): boolean {
  if (endpoint.startsWith('unix:')) return endpoint.length > 'unix:'.length;
  const dns = /^dns:(?:\/\/[^/]*\/)?(.+)$/.exec(endpoint);
  if (dns) return HOST.test(dns[1]!) && validPort(dns[1]!);
  const hostPort = endpoint.startsWith('grpc://') ? endpoint.slice('grpc://'.length) : endpoint;
  return HOST_PORT.test(hostPort) && validPort(hostPort);
}

function validPort(hostPort: string): boolean {
  const port = /:(\d+)$/.exec(hostPort)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65_535);
}

function checkSocket(plugin: PluginConfig): Problem[] {
  const { endpoint, socketPath } = plugin;
  if (endpoint === undefined && socketPath === undefined) {
    return [
      {
        path: ['socketPath'],
        code: ErrorCode.MissingSocketPath,
        message:
          'transport "unix" needs socketPath (e.g. /run/plugins/resizer.sock) or an endpoint unix:///path',
      },
    ];
  }
  if (endpoint === undefined) return [];
  const fromEndpoint = endpoint.startsWith('unix://')
    ? endpoint.slice('unix://'.length)
    : endpoint.startsWith('/')
      ? endpoint
      : undefined;
  if (fromEndpoint === undefined || !fromEndpoint.startsWith('/')) {
    return [
      {
        path: ['endpoint'],
        code: ErrorCode.InvalidEndpointFormat,
        message: 'expected unix:///absolute/path.sock or an absolute path',
      },
    ];
  }
  if (socketPath !== undefined && socketPath !== fromEndpoint) {
    return [
      {
        path: ['socketPath'],
        message: 'socketPath and endpoint name different sockets; give only one of them',
      },
    ];
  }
  return [];
}
