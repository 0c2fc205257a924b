/**
 * Lua scripts run inside Redis, each one atomic. Time is Redis' own (`TIME`), so replicas whose
 * clocks disagree still share one bucket correctly.
 */

/**
 * A token bucket shared by every replica: KEYS[1] the bucket; ARGV rate (tokens/s), burst,
 * want (tokens asked for). Grants up to `want` tokens, and says how long until `want` more
 * will be there (ms), so that a replica refused does not ask again before that.
 * Returns `{ granted, waitMs }`.
 */
export const LEASE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 't', 'n')
local last = tonumber(state[1])
local tokens = tonumber(state[2])
if last == nil or tokens == nil then
  last = now
  tokens = burst
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * rate / 1000)
end
local granted = math.min(want, math.floor(tokens))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 't', tostring(now), 'n', tostring(tokens))
-- A bucket nobody uses is full again after burst / rate seconds: keep it no longer than that.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
local wait = 0
if granted < want then
  wait = math.ceil((math.min(want, burst) - tokens) * 1000 / rate)
end
return { granted, wait }
`;

/**
 * A replica's heartbeat: KEYS[1] the sorted set of replicas (score = last heartbeat, Redis
 * time in ms); ARGV this replica's id, the ttl (ms). Drops the replicas not heard from within
 * the ttl and returns how many are live, this one included.
 */
export const HEARTBEAT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
`;

/** A replica leaving: KEYS[1] the replica set; ARGV this replica's id. */
export const LEAVE_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('ZCARD', KEYS[1])
`;

/**
 * The shared load view: KEYS[1] the hash of views (replica id → "<Redis time ms> <json>");
 * ARGV this replica's id, the ttl (ms), its view (JSON). Writes this replica's view, deletes the
 * views older than the ttl, and returns the others as a flat list: id, age (ms), json, ….
 */
export const VIEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', now) .. ' ' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local id = all[i]
  if id ~= ARGV[1] then
    local v = all[i + 1]
    local sp = string.find(v, ' ', 1, true)
    local at = nil
    if sp ~= nil then at = tonumber(string.sub(v, 1, sp - 1)) end
    if at == nil or now - at > ttl then
      redis.call('HDEL', KEYS[1], id)
    else
      out[#out + 1] = id
      out[#out + 1] = string.format('%.0f', now - at)
      out[#out + 1] = string.sub(v, sp + 1)
    end
  end
end
return out
`;
