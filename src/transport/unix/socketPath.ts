import type { PluginConfig } from '../../config/types.js';
import { ErrorCode } from '../../errors.js';
import type { ConfigProblem } from '../../types.js';

// sun_path holds 108 bytes on Linux (104 on macOS) including the terminating NUL.
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * The socket path of a Unix plugin: `socketPath`, else `endpoint` given as `unix:///path`,
 * `unix:/path` or a bare path. Undefined when neither is set.
 */
export function socketPathOf(config: PluginConfig): string | undefined {
  if (config.socketPath) return config.socketPath;
  const endpoint = config.endpoint;
  if (!endpoint) return undefined;
  if (endpoint.startsWith('unix://')) return decodeURIComponent(endpoint.slice('unix://'.length));
  if (endpoint.startsWith('unix:')) return decodeURIComponent(endpoint.slice('unix:'.length));
  return endpoint;
}

/** What the Unix transport needs: one socket path, given once, short enough for the OS. */
export function validateSocketPath(config: PluginConfig): ConfigProblem[] {
  const path = socketPathOf(config);
  if (!path) {
    return [
      {
        path: 'socketPath',
        code: ErrorCode.MissingSocketPath,
        message:
          'transport "unix" needs socketPath (e.g. /run/plugins/resizer.sock) or an endpoint unix:///path',
      },
    ];
  }
  const fromEndpoint =
    config.endpoint === undefined ? undefined : socketPathOf({ ...config, socketPath: undefined });
  if (fromEndpoint !== undefined && !fromEndpoint.startsWith('/')) {
    return [
      {
        path: 'endpoint',
        code: ErrorCode.InvalidEndpointFormat,
        message: 'expected unix:///absolute/path.sock or an absolute path',
      },
    ];
  }
  if (
    config.socketPath !== undefined &&
    fromEndpoint !== undefined &&
    fromEndpoint !== config.socketPath
  ) {
    return [
      {
        path: 'socketPath',
        message: 'socketPath and endpoint name different sockets; give only one of them',
      },
    ];
  }
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    return [
      {
        path: config.socketPath ? 'socketPath' : 'endpoint',
        message: `socket paths are limited to ${MAX_SOCKET_PATH_BYTES} bytes by the OS; use a shorter path`,
      },
    ];
  }
  return [];
}
