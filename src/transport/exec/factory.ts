import { ErrorCode, PluginError } from '../../errors.js';
import type { PluginFactory } from '../../types.js';
import { ExecPlugin } from './ExecPlugin.js';

/**
 * The `exec` transport: plugins run as a supervised child process (`executable`, `args`, `env`,
 * `workDir`) speaking newline-JSON on stdin/stdout. See docs/protocol/exec.md.
 */
export const execFactory: PluginFactory = {
  transports: ['exec'],
  validates: ['executable'],
  validate: (config) =>
    config.executable
      ? []
      : [
          {
            path: 'executable',
            code: ErrorCode.MissingExecutable,
            message: 'transport "exec" needs the path of the program to run',
          },
        ],
  create(config, deps) {
    if (!config.executable) {
      throw new PluginError(
        ErrorCode.MissingExecutable,
        `${config.name}: the exec transport needs executable`,
        { plugin: config.name },
      );
    }
    return new ExecPlugin(config, deps);
  },
};
