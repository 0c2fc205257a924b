/**
 * The member registry in Redis: plugin instances announce themselves per group, hosts read the
 * live ones. Per group, a sorted set `<ns>:members:<group>` (score = expiry, Redis time in ms)
 * and a hash `<ns>:member:<group>` (id → the member's JSON description). An instance's id is
 * its identity: re-announcing under the same id (a restart) replaces, never duplicates.
 */

/** What an instance announces about itself. */
export interface MemberAnnouncement {
  /** Identity within the group; default: the endpoint. */
  id: string;
  /** Transport hosts use to reach it (`http`, `https`, `grpc`, `grpc-tls`). */
  transport: string;
  /** The endpoint as hosts can reach it. */
  endpoint: string;
  weight: number;
  labels: Record<string, string>;
}

/** Keys of a group's registry. */
export function memberKeys(namespace: string, group: string): [expiries: string, data: string] {
  return [`${namespace}:members:${group}`, `${namespace}:member:${group}`];
}

/** KEYS expiries, data; ARGV id, ttl (ms), description JSON. */
export const ANNOUNCE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
`;

/** KEYS expiries, data; ARGV id. */
export const WITHDRAW_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS expiries, data. Drops the members whose heartbeat expired and returns the live ones as
 * a flat list of descriptions (JSON).
 */
export const MEMBERS_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
if #live == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(live))
`;

/** Reads one description; undefined when it is not one (never trusted blindly). */
export function readAnnouncement(json: unknown): MemberAnnouncement | undefined {
  if (typeof json !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || typeof v.endpoint !== 'string') return undefined;
  if (typeof v.transport !== 'string') return undefined;
  const weight = typeof v.weight === 'number' && v.weight > 0 ? v.weight : 1;
  const labels: Record<string, string> = {};
  if (typeof v.labels === 'object' && v.labels !== null) {
    for (const [k, l] of Object.entries(v.labels)) if (typeof l === 'string') labels[k] = l;
  }
  return { id: v.id, transport: v.transport, endpoint: v.endpoint, weight, labels };
}
