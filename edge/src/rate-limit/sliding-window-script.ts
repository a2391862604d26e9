/**
 * The sliding-window log as one Redis Lua script: trim, count, admit, expire and summarize in
 * a single atomic round trip, for one window or several of one owner (see `Limiter.limitAll`:
 * the request is logged in every window only when all have room).
 *
 * Time is Redis `TIME`, not the caller's clock, so Workers in different places agree on one
 * clock. Members are unique per request (a random id from the caller), so two requests in the
 * same millisecond are two entries. `PEXPIRE` follows every write: a key never lives longer
 * than its newest entry's window, and no key is left without a TTL.
 *
 * `KEYS` are the windows; `ARGV` is `cost, member, limit1, window1, limit2, window2, …`. It
 * returns `now` and then, per window, `allowed, count, newest, blocking` (-1 for "none") for
 * `resultFromWindow`.
 * @module
 */

export const SLIDING_WINDOW_LUA = `
local cost = tonumber(ARGV[1])
local member = ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local counts = {}
local admitted = true
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  counts[i] = redis.call('ZCARD', key)
  if counts[i] >= limit then admitted = false end
end
local reply = {now}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  local count = counts[i]
  local allowed = 0
  if count < limit then allowed = 1 end
  if admitted and cost > 0 then
    redis.call('ZADD', key, now, member)
    count = count + 1
  end
  local newest = -1
  local blocking = -1
  if count > 0 then
    redis.call('PEXPIRE', key, window)
    newest = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
    if allowed == 0 then
      local index = count - limit
      if index < 0 then index = 0 end
      blocking = tonumber(redis.call('ZRANGE', key, index, index, 'WITHSCORES')[2])
    end
  end
  table.insert(reply, allowed)
  table.insert(reply, count)
  table.insert(reply, newest)
  table.insert(reply, blocking)
end
return reply
`;

/**
 * Takes back admitted requests (see `Limiter.release`): `KEYS` are windows, `ARGV` the member
 * to remove from each, in the same order. `ZREM` removes exactly that member, or nothing when
 * it has aged out already; an emptied set is deleted by Redis, and a set left with entries
 * keeps its TTL (a window from its newest write: never shorter than its entries need).
 * Returns how many were removed.
 */
export const RELEASE_LUA = `
local removed = 0
for i, key in ipairs(KEYS) do
  removed = removed + redis.call('ZREM', key, ARGV[i])
end
return removed
`;

/** SHA-1 of the script, as `EVALSHA` names it. */
export async function scriptSha1(script: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(script)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}
