import type { PluginConfig } from '../../config/types.js';

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

/** Config problems specific to the Unix transport. */
export function validateSocketPath(config: PluginConfig): Array<{ path: string; message: string }> {
  const path = socketPathOf(config);
  if (!path) {
    return [
      {
        path: 'socketPath',
        message:
          'is required for the unix transport (or set endpoint: unix:///path/to/plugin.sock)',
      },
    ];
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    return [{ path: 'endpoint', message: `must be unix:///path or a socket path, got ${path}` }];
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
