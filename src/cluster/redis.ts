/**
 * The Redis client, through `ioredis` (an optional peer: imported only when a `cluster` section
 * is configured, so a host without it never loads it).
 *
 * Set up for a coordination store that must never hold a call up: commands time out
 * (`commandTimeout`), the offline queue is off (a command while disconnected fails at once
 * instead of waiting for a reconnect), a failed command is not retried by the client (we decide),
 * and reconnects back off exponentially up to `reconnect.maxInterval`.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { ClusterConfig } from '../config/cluster-schema.js';
import { ErrorCode, PluginError } from '../errors.js';

/** The package plugwire's cluster mode needs (an optional peer dependency). */
export const REDIS_PACKAGE = 'ioredis';

type RedisConstructor = new (...args: unknown[]) => Redis;

/** Imports ioredis, or says which package to install. */
export async function loadRedis(): Promise<RedisConstructor> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(REDIS_PACKAGE)) as Record<string, unknown>;
  } catch (error) {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      `the cluster section needs the optional peer dependency ${REDIS_PACKAGE}: npm install ${REDIS_PACKAGE}`,
      { cause: error, redacted: true },
    );
  }
  // ioredis is CommonJS: `Redis` is a named export, and the default one too.
  const Ctor = (mod.Redis ?? mod.default) as RedisConstructor | undefined;
  if (typeof Ctor !== 'function') {
    throw new PluginError(
      ErrorCode.InvalidConfig,
      `the installed ${REDIS_PACKAGE} does not export a Redis client (plugwire supports ioredis 5 and 6)`,
    );
  }
  return Ctor;
}

/** Reconnect delay after `times` failed attempts: exponential from `initial`, capped at `max`. */
export function reconnectDelay(times: number, initial: number, max: number): number {
  return Math.min(max, initial * 2 ** Math.min(30, Math.max(0, times - 1)));
}

/** A client for `config`, connecting in the background; errors are reported through `onError`. */
export function createRedisClient(
  Ctor: RedisConstructor,
  config: ClusterConfig,
  onError: (error: Error) => void,
): Redis {
  const { reconnect } = config;
  const ours: RedisOptions = {
    commandTimeout: config.commandTimeout,
    connectTimeout: Math.max(config.commandTimeout, config.connectTimeout),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) =>
      reconnectDelay(times, reconnect.initialInterval, reconnect.maxInterval),
    lazyConnect: true,
  };
  const { url, options } = config.redis;
  let client: Redis;
  if (url !== undefined && url.startsWith('unix://')) {
    // ioredis reads unix sockets from `path`; a URL such as unix:///run/redis.sock is easier to write.
    client = new Ctor({ ...ours, path: decodeURIComponent(new URL(url).pathname) });
  } else if (url !== undefined) {
    client = new Ctor(url, ours);
  } else {
    client = new Ctor({ ...options, ...ours });
  }
  client.on('error', onError);
  return client;
}
