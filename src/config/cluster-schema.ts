import { z } from 'zod';
import { registerSecret } from '../errors.js';
import { isRecord, keyed, withRule, type FieldKit } from './fields.js';
import type { Problem } from './issues.js';
import type { ClusterConfig, ClusterRedisConfig } from './types.js';
import { DEFAULT_CLUSTER } from './cluster-defaults.js';

export type { ClusterConfig, ClusterMembersConfig, ClusterRedisConfig } from './types.js';

export { DEFAULT_CLUSTER };

const GROUP_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

function redisSchema(kit: FieldKit) {
  const schema = z.strictObject({
    url: kit.secret().optional(),
    options: kit
      .freeform()
      .transform((options) => {
        // A password given in the options is as secret as one in a URL.
        const password = options.password;
        if (typeof password === 'string' && password !== '') registerSecret(password);
        return options;
      })
      .optional(),
  });
  return keyed(withRule(schema, oneOfUrlOrOptions));
}

function oneOfUrlOrOptions(
  redis: ClusterRedisConfig,
  valid: (...path: PropertyKey[]) => boolean,
): Problem[] {
  if (!valid('url') || !valid('options')) return [];
  if (redis.url !== undefined && redis.options !== undefined) {
    return [{ path: ['url'], message: 'give either url or options, not both' }];
  }
  if (redis.url === undefined && redis.options === undefined) {
    return [
      {
        path: [],
        message:
          'needs url (redis://host:port, unix:///path/redis.sock) or options (ioredis options)',
      },
    ];
  }
  if (redis.url !== undefined && !/^(rediss?|unix):\/\//.test(redis.url)) {
    // The URL may hold a password: say what is wrong without quoting it.
    return [{ path: ['url'], message: 'must start with redis://, rediss:// or unix://' }];
  }
  return [];
}

/** The `cluster` section's schema (optional at the top level). */
export function clusterSchema(kit: FieldKit) {
  const d = DEFAULT_CLUSTER;
  const reconnect = keyed(
    z.strictObject({
      initialInterval: kit.duration('positive').default(d.reconnect.initialInterval),
      maxInterval: kit.duration('positive').default(d.reconnect.maxInterval),
    }),
  );
  const schema = z.strictObject({
    redis: redisSchema(kit),
    namespace: kit
      .text(
        z.string().regex(NAMESPACE, {
          error: 'must be letters, digits and _ . : - (starting with a letter or digit)',
        }),
      )
      .default(d.namespace),
    replicaId: kit
      .text(z.string().regex(NAMESPACE, { error: 'must be letters, digits and _ . : -' }))
      .optional(),
    heartbeatInterval: kit.duration('positive').default(d.heartbeatInterval),
    replicaTtl: kit.duration('positive').default(d.replicaTtl),
    commandTimeout: kit.duration('positive').default(d.commandTimeout),
    connectTimeout: kit.duration('non-negative').default(d.connectTimeout),
    reconnect: reconnect.prefault({}),
    leaseInterval: kit.duration('positive').default(d.leaseInterval),
    viewInterval: kit.duration('positive').default(d.viewInterval),
    viewTtl: kit.duration('positive').default(d.viewTtl),
    members: z
      .record(
        z.string().regex(GROUP_NAME, { error: 'group name must be letters, digits, . _ -' }),
        keyed(
          z.strictObject({
            refresh: kit.duration('positive').default(1_000),
            template: kit.freeform().default(() => ({})),
            dns: keyed(
              z.strictObject({
                name: kit.text(z.string().min(1).max(253)),
                type: z.enum(['A', 'AAAA', 'A+AAAA', 'SRV']).default('A+AAAA'),
                port: kit.number(z.number().int().min(1).max(65_535)).optional(),
                transport: z.enum(['http', 'https', 'grpc', 'grpc-tls']).default('http'),
                path: kit.text(z.string().startsWith('/')).default('/'),
                servers: z.array(kit.text(z.string().min(1))).optional(),
              }),
            ).optional(),
          }),
        ),
      )
      .default(() => ({})),
  });
  return keyed(withRule(schema, ttlAboveHeartbeat)).optional();
}

function ttlAboveHeartbeat(
  cluster: ClusterConfig,
  valid: (...path: PropertyKey[]) => boolean,
): Problem[] {
  const problems: Problem[] = [];
  if (
    valid('replicaTtl') &&
    valid('heartbeatInterval') &&
    cluster.replicaTtl <= cluster.heartbeatInterval
  ) {
    problems.push({
      path: ['replicaTtl'],
      message: 'must be longer than heartbeatInterval (2–5 heartbeats is usual)',
    });
  }
  if (valid('viewTtl') && valid('viewInterval') && cluster.viewTtl <= cluster.viewInterval) {
    problems.push({
      path: ['viewTtl'],
      message: 'must be longer than viewInterval (a view is replaced every viewInterval)',
    });
  }
  for (const [group, members] of Object.entries(cluster.members ?? {})) {
    const dns = members.dns;
    if (dns !== undefined && dns.type !== 'SRV' && dns.port === undefined) {
      problems.push({
        path: ['members', group, 'dns', 'port'],
        message: `needs a port with type ${dns.type} (SRV records carry theirs)`,
      });
    }
  }
  return problems;
}

/** Cross-section rule: a cluster-scope rate limit needs a `cluster` section. */
export function clusterRules(
  config: { cluster?: unknown; defaults?: unknown; plugins?: unknown },
  valid: (...path: PropertyKey[]) => boolean,
): Problem[] {
  if (config.cluster !== undefined) return [];
  const problems: Problem[] = [];
  const scopeOf = (section: unknown): unknown =>
    isRecord(section) && isRecord(section.rateLimit) ? section.rateLimit.scope : undefined;
  const message =
    'scope "cluster" needs a cluster section (cluster: { redis: { url: … } }) to share the limit';
  if (scopeOf(config.defaults) === 'cluster' && valid('defaults', 'rateLimit', 'scope')) {
    // Every plugin inherits it: one problem at the source says it best.
    return [{ path: ['defaults', 'rateLimit', 'scope'], message }];
  }
  if (Array.isArray(config.plugins)) {
    config.plugins.forEach((plugin, i) => {
      if (scopeOf(plugin) === 'cluster' && valid('plugins', i, 'rateLimit', 'scope')) {
        problems.push({ path: ['plugins', i, 'rateLimit', 'scope'], message });
      }
    });
  }
  return problems;
}
