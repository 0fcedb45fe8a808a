import { CID_TTL_MS, type RateLimit } from '../../bus';

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
 * The token bucket of token-bucket.ts in one string key (`<tokens> <at ms>`):
 * `refill(bucket, per_second, burst)` is its tokens now, `keep(bucket, tokens, per_second, burst)`
 * stores a count as of now, and `take(bucket, per_second, burst)` is true when a token was taken.
 * A key lives until its bucket would be full again: an absent bucket is a full one.
 */
export const TAKE_TOKEN = `${NOW}
local function refill(bucket, per_second, burst)
  local tokens, at = burst, now
  local state = redis.call('GET', bucket)
  if state then
    local split = string.find(state, ' ', 1, true)
    tokens = tonumber(string.sub(state, 1, split - 1))
    at = tonumber(string.sub(state, split + 1))
  end
  return math.min(burst, tokens + math.max(0, now - at) / 1000 * per_second)
end
local function keep(bucket, tokens, per_second, burst)
  redis.call('SET', bucket, tostring(tokens) .. ' ' .. now, 'PX', math.ceil(burst / per_second * 1000) + 1000)
end
local function take(bucket, per_second, burst)
  local tokens = refill(bucket, per_second, burst)
  local allowed = tokens >= 1
  if allowed then tokens = tokens - 1 end
  keep(bucket, tokens, per_second, burst)
  return allowed
end
`;

/**
 * Lua fragment of APPEND: `room_epoch(key, generation, fresh, ttl)` makes sure the room's log has
 * an epoch of the broker's current data generation (the cluster epoch, see CHECK_IN) and returns
 * it, and whether it just replaced an older one. The key holds `<epoch> <generation>`. A log with
 * no epoch, or one created in another generation (Redis lost or rolled back data since: positions
 * given before the loss may be unknown to every live process), gets `fresh`, so no position
 * after a loss can equal one given before it. An empty `generation` (a Redis Cluster, whose room
 * keys cannot reach the cluster epoch's slot) never replaces an epoch. The key's time to live is
 * set to `ttl` in the same call that reads it (GETEX: one call per append, not two).
 */
export const ROOM_EPOCH = `
local function split_epoch(stored)
  if not stored then return nil, '' end
  local space = string.find(stored, ' ', 1, true)
  if not space then return stored, '' end
  return string.sub(stored, 1, space - 1), string.sub(stored, space + 1)
end
local function room_epoch(key, generation, fresh, ttl)
  local current, made = split_epoch(redis.call('GETEX', key, 'PX', ttl))
  local renewed = false
  if not current or (generation ~= '' and made ~= generation) then
    renewed = current ~= nil
    current = fresh
    redis.call('SET', key, current .. ' ' .. generation, 'PX', ttl)
  end
  return current, renewed
end
`;

/**
 * `head` (highest seq given), `epoch` ('' when none) and `first` (oldest stored seq, head + 1
 * when none is) of a room log; needs the locals `seq_counter`, `epoch_key` and `log`.
 */
export const LOG_HEAD = `
local head = tonumber(redis.call('GET', seq_counter) or '0')
local epoch = redis.call('GET', epoch_key) or ''
local epoch_space = string.find(epoch, ' ', 1, true)
if epoch_space then epoch = string.sub(epoch, 1, epoch_space - 1) end
local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
local first = head + 1
if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
`;

/**
 * A sender's retry id (`cid`): `sent_before(cid_key)` answers `{1, id, seq}` when the send was
 * stored before (nil otherwise); `remember_send(cid_key, id, seq, ttl_ms)` records it.
 */
export const SEND_ONCE = `
local function sent_before(cid_key)
  local previous = redis.call('GET', cid_key)
  if not previous then return nil end
  local split = string.find(previous, ' ', 1, true)
  return {1, string.sub(previous, 1, split - 1), tonumber(string.sub(previous, split + 1))}
end
local function remember_send(cid_key, id, seq, ttl_ms)
  redis.call('SET', cid_key, id .. ' ' .. seq, 'PX', ttl_ms)
end
`;

/** The arguments SEND_ONCE and TAKE_TOKEN need for one send, as both appends name them. */
export function sendOnceArgv(messageId: string, cid: string | undefined, limit?: RateLimit) {
  return {
    use_cid: cid === undefined ? '0' : '1',
    message_id: messageId,
    cid_ttl_ms: CID_TTL_MS,
    use_limit: limit ? '1' : '0',
    per_second: limit?.perSecond ?? 0,
    burst: limit?.burst ?? 0,
  };
}

/**
 * The broker fence (see BrokerFence): `fence_refusal(node_mark, mark, settle, use_settle)` is
 * 'forgot' when this node's mark in Redis is missing or older than `mark`, the one it last wrote
 * (Redis lost or rolled back data this node has not checked in since), 'settling' while a settle
 * window is open (`use_settle` '1'; see CHECK_IN), else nil. Marks are `<node>:<n>` and compared
 * by `n`, so a check-in of this node's that ran first (a higher `n`) passes. An empty `mark`
 * (no check-in yet) skips the mark.
 */
export const FENCE = `
local function mark_number(value)
  return tonumber(string.match(value or '', ':(%d+)$') or '-1')
end
local function fence_refusal(node_mark, mark, settle, use_settle)
  if mark ~= '' and mark_number(redis.call('GET', node_mark)) < mark_number(mark) then
    return 'forgot'
  end
  if use_settle == '1' and redis.call('EXISTS', settle) == 1 then return 'settling' end
  return nil
end
`;

/**
 * The one step that records a loss of the broker's data, whoever found it (a check-in whose mark
 * Redis lost or rolled back, a client's resume beyond a room's head in its epoch):
 * `loss_found(cluster_epoch, candidate, settle, settle_ms, settle_value, user_counter)` starts a
 * new data generation (`candidate` becomes the cluster epoch, so every room log renews its epoch
 * at its next append, see ROOM_EPOCH), opens or extends the settle window (`settle`, fenced room
 * appends wait in it) and raises the user-id counter above Redis' time in ms. Needs NOW.
 */
export const LOSS_FOUND = `
local function loss_found(cluster_epoch, candidate, settle, settle_ms, settle_value, user_counter)
  redis.call('SET', cluster_epoch, candidate)
  if redis.call('PTTL', settle) < tonumber(settle_ms) then
    redis.call('SET', settle, settle_value, 'PX', settle_ms)
  end
  if tonumber(redis.call('GET', user_counter) or '0') < now then
    redis.call('SET', user_counter, now)
  end
end
`;

/**
 * `next_user_id(user_counter)`: a new user id, never below Redis' time in µs. Ids therefore grow
 * with time, so one handed out after Redis lost or rolled back its counter (restarted empty,
 * FLUSHALL, an older snapshot, a promoted replica that lacked the last writes) is above every
 * id handed out before, whether or not any live node saw the data before the loss: no id comes
 * back to a new user while a client that kept it can still use it. It holds while Redis' clock
 * does not go back and the cluster hands out fewer than one id per µs (one Redis cannot).
 * (`%.0f`: the floor is written as an integer, whatever the number conversion.)
 */
export const NEXT_ID = `
local function next_user_id(user_counter)
  local time = redis.call('TIME')
  local floor = tonumber(time[1]) * 1000000 + tonumber(time[2])
  if tonumber(redis.call('GET', user_counter) or '0') < floor then
    redis.call('SET', user_counter, string.format('%.0f', floor - 1))
  end
  return redis.call('INCR', user_counter)
end
`;
