/**
 * Lua shared by several scripts, prepended to their bodies. Each defines functions or locals
 * named here; none reads KEYS or ARGV itself.
 */

/** `now`: Redis' clock in ms. Every lease uses it, never a node's clock. */
export const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * `take(bucket, per_second, burst)`: the token bucket of token-bucket.ts in one string key
 * (`<tokens> <at ms>`); true when a token was taken.
 */
export const TAKE_TOKEN = `${NOW}
local function take(bucket, per_second, burst)
  local tokens, at = burst, now
  local state = redis.call('GET', bucket)
  if state then
    local split = string.find(state, ' ', 1, true)
    tokens = tonumber(string.sub(state, 1, split - 1))
    at = tonumber(string.sub(state, split + 1))
  end
  tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * per_second)
  local allowed = tokens >= 1
  if allowed then tokens = tokens - 1 end
  redis.call('SET', bucket, tostring(tokens) .. ' ' .. now, 'PX', math.ceil(burst / per_second * 1000) + 1000)
  return allowed
end
`;
