import type { ChannelOptions } from '@grpc/grpc-js';
import type { PluginConfig } from '../../config/types.js';

/**
 * gRPC-specific settings, read from a plugin's `options` section:
 * ```yaml
 * options: { healthService: payments, keepaliveTimeMs: 300000, keepaliveTimeoutMs: 20000 }
 * ```
 */
export interface GrpcOptions {
  /**
   * The service name sent in `grpc.health.v1.HealthCheckRequest`. Default `""`: the server's
   * overall health. Set it to the plugin's name (or any service the server reports on) to ask
   * about one service.
   */
  healthService: string;
  /**
   * Interval of HTTP/2 keepalive pings while calls are in flight (when `connection.keepAlive`).
   * Default 5 minutes: the smallest interval gRPC servers accept by default (Go and Java answer
   * faster pings with GOAWAY "too_many_pings", which drops in-flight calls). Lower it only for
   * servers configured to allow it; plugwire's own `serveGrpc` accepts any interval.
   */
  keepaliveTimeMs: number;
  /** How long to wait for a keepalive ping's answer before declaring the connection dead. */
  keepaliveTimeoutMs: number;
  /** Longest wait between reconnection attempts after a connection failure (grpc-js: 120 s). */
  maxReconnectBackoffMs: number;
}

export const GRPC_DEFAULTS: GrpcOptions = {
  healthService: '',
  keepaliveTimeMs: 300_000,
  keepaliveTimeoutMs: 20_000,
  maxReconnectBackoffMs: 5_000,
};

const NUMERIC = ['keepaliveTimeMs', 'keepaliveTimeoutMs', 'maxReconnectBackoffMs'] as const;

/** The plugin's gRPC options with defaults applied (call {@link grpcOptionProblems} first). */
export function grpcOptions(config: PluginConfig): GrpcOptions {
  const options = config.options;
  const result = { ...GRPC_DEFAULTS };
  if (typeof options.healthService === 'string') result.healthService = options.healthService;
  for (const name of NUMERIC) {
    const value = options[name];
    if (typeof value === 'number') result[name] = value;
  }
  return result;
}

/** One message per invalid gRPC option, with its path. */
export function grpcOptionProblems(config: PluginConfig): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const options = config.options;
  if (options.healthService !== undefined && typeof options.healthService !== 'string') {
    problems.push({ path: 'options.healthService', message: 'must be a string' });
  }
  for (const name of NUMERIC) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) {
      problems.push({ path: `options.${name}`, message: 'must be a positive number of ms' });
    }
  }
  return problems;
}

/** grpc-js channel options for a plugin: limits, keepalive, reconnection, idleness. */
export function channelOptions(config: PluginConfig, grpc: GrpcOptions): ChannelOptions {
  const { connection } = config;
  const options: ChannelOptions = {
    // Larger replies fail the call with RESOURCE_EXHAUSTED (mapped to PLUGIN_1210); the
    // channel stays usable. Requests are not limited here: the server decides.
    'grpc.max_receive_message_length': connection.maxResponseBytes,
    'grpc.max_send_message_length': -1,
    // One connection per plugin instance, never shared with another client of the same target,
    // so that closing or restarting one plugin cannot disturb another.
    'grpc.use_local_subchannel_pool': 1,
    // channelz keeps per-call statistics nobody reads here: skip that work on the hot path.
    'grpc.enable_channelz': 0,
    'grpc.max_reconnect_backoff_ms': grpc.maxReconnectBackoffMs,
    'grpc.initial_reconnect_backoff_ms': Math.min(1_000, grpc.maxReconnectBackoffMs),
    // grpc-js's minimum is 1 s; an idle channel reconnects on the next call by itself.
    'grpc.client_idle_timeout_ms': Math.max(1_000, connection.idleTimeout),
  };
  if (connection.keepAlive) {
    options['grpc.keepalive_time_ms'] = grpc.keepaliveTimeMs;
    options['grpc.keepalive_timeout_ms'] = grpc.keepaliveTimeoutMs;
    options['grpc.keepalive_permit_without_calls'] = 0;
  }
  return options;
}
