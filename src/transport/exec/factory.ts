import { ErrorCode, PluginError } from '../../errors.js';
import type { PluginFactory } from '../../types.js';
import { validateExecConfig } from './env.js';
import { ExecPlugin } from './ExecPlugin.js';

/**
 * The `exec` transport: plugins run as a supervised child process (`executable`, `args`, `env`,
 * `workDir`) speaking newline-JSON on stdin/stdout. See docs/protocol/exec.md.
 */
export const execFactory: PluginFactory = {
  transports: ['exec'],
  validate: validateExecConfig,
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
