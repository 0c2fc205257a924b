import { ErrorCode, PluginError } from '../../errors.js';
import type { PluginFactory } from '../../types.js';
import { socketPathOf, validateSocketPath } from './socketPath.js';
import { UnixPlugin } from './UnixPlugin.js';

/**
 * The `unix` transport: plugins listening on a Unix domain socket, reached with `socketPath`
 * or `endpoint: unix:///path/to.sock`. See docs/protocol/unix.md.
 */
export const unixFactory: PluginFactory = {
  transports: ['unix'],
  validates: ['endpoint', 'socketPath'],
  validate: validateSocketPath,
  create(config, deps) {
    const path = socketPathOf(config);
    if (!path) {
      throw new PluginError(
        ErrorCode.MissingSocketPath,
        `${config.name}: the unix transport needs socketPath or endpoint (unix:///path/to.sock)`,
        { plugin: config.name },
      );
    }
    return new UnixPlugin(config, path, deps);
  },
};
