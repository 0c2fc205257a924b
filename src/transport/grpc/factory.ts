import { Metadata } from '@grpc/grpc-js';
import type { PluginConfig } from '../../config/types.js';
import { ErrorCode } from '../../errors.js';
import type { ConfigProblem, PluginFactory } from '../../types.js';
import { TLS_TRANSPORTS, authMetadata } from './credentials.js';
import { grpcOptionProblems } from './options.js';
import { GrpcPlugin } from './plugin.js';
import { grpcTargetProblem } from './target.js';

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
      try {
        new Metadata().set(key, value);
      } catch {
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

  create(config, deps) {
    return new GrpcPlugin(config, deps);
  },
};
