import type { PluginConfig } from '../../config/types.js';
import { ErrorCode } from '../../errors.js';
import type { ConfigProblem, PluginFactory } from '../../types.js';
import { LazyModule, LazyPlugin } from '../lazy.js';
import { TLS_TRANSPORTS, authMetadata, metadataProblem } from './metadata.js';
import { grpcOptionProblems } from './options.js';
import { grpcTargetProblem } from './target.js';

// @grpc/grpc-js and @grpc/proto-loader are imported with the plugin, when the first grpc plugin
// is created.
const implementation = new LazyModule(
  'grpc',
  ['@grpc/grpc-js', '@grpc/proto-loader'],
  ErrorCode.GRPCTransportError,
  () => import('./plugin.js'),
);

/**
 * The built-in factory for the `grpc` (plaintext) and `grpc-tls` transports. See
 * docs/protocol/grpc.md for what a plugin server must implement.
 */
export const grpcFactory: PluginFactory<unknown, unknown> = {
  transports: ['grpc', 'grpc-tls'],

  validates: ['endpoint', 'socketPath', 'auth', 'tls', 'options'],
  validate(config: PluginConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const target = grpcTargetProblem(config);
    if (target) {
      const missing = !config.endpoint && !config.socketPath;
      problems.push({
        path: config.socketPath ? 'socketPath' : 'endpoint',
        code: missing ? ErrorCode.MissingEndpoint : ErrorCode.InvalidEndpointFormat,
        message: target,
      });
    }
    const tls = TLS_TRANSPORTS.has(config.transport);
    if (!tls && config.auth.method === 'mtls') {
      problems.push({ path: 'auth.method', message: 'mtls needs transport grpc-tls' });
    }
    if (!tls && (config.tls?.caFile || config.tls?.certFile || config.tls?.keyFile)) {
      problems.push({ path: 'tls', message: 'TLS files are only used with transport grpc-tls' });
    }
    for (const [key, value] of authMetadata(config)) {
      if (metadataProblem(key, value)) {
        problems.push({
          path: `auth`,
          message: `the ${config.auth.method} credentials cannot travel as gRPC metadata (header names must be lower-case tokens, values printable ASCII)`,
        });
        break;
      }
    }
    problems.push(...grpcOptionProblems(config));
    return problems;
  },

  prepare: () => implementation.load().then(() => undefined),
  create(config, deps) {
    const module = implementation.loaded;
    if (module !== undefined) return new module.GrpcPlugin(config, deps);
    return new LazyPlugin(config.name, () =>
      implementation.load().then((m) => new m.GrpcPlugin(config, deps)),
    );
  },
};
