import { LuaScript } from '../bus/redis-scripts';

/**
 * Lua for cluster state. Users are stored as canonical JSON (`userJson`), so "held by this user"
 * is a string comparison. A node's sessions live in a hash, field = session key, value =
 * `<room>\n<user json>` (room empty while the session is in no room).
 */

/** Current server time in ms: every lease uses Redis' clock, never a node's. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: subject, user id counter. Returns the subject's user id, allocating one the first time. */
export const SUBJECT_USER = new LuaScript(
  `
local id = redis.call('GET', KEYS[1])
if id then return tonumber(id) end
id = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], id)
return id
`,
  2,
);

/** KEYS: name. ARGV: user json, ttl. Returns 1 when claimed or renewed, 0 when held by another. */
export const CLAIM_NAME = new LuaScript(
  `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
  1,
);

/** KEYS: name, user session count, node sessions. ARGV: user json, ttl, session key. */
export const OPEN_SESSION = new LuaScript(
  `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('HSETNX', KEYS[3], ARGV[3], '\\n' .. ARGV[1]) == 1 then
  redis.call('INCR', KEYS[2])
end
return 1
`,
  3,
);

/**
 * Room membership, shared by ENTER_ROOM and EXIT_ROOM. Room keys are derived here from the
 * session's stored room, so a node's idea of its room can never unbalance the counts.
 * Per room: `<prefix>:room-users:<room>` (user id → sessions), `<prefix>:room-names:<room>`
 * (user id → json); `<prefix>:rooms:online` ranks rooms by users. The channel name must match
 * topics.ts channelName(prefix, { kind: 'room', room }).
 */
const ROOMS = `
local function room_channel(prefix, room) return prefix .. '#room#' .. room .. '#' end
local function current_room(entry) return string.sub(entry, 1, string.find(entry, '\\n', 1, true) - 1) end
local function leave_room(prefix, room, user_id, left_template)
  local users = prefix .. ':room-users:' .. room
  if redis.call('HINCRBY', users, user_id, -1) > 0 then return 0 end
  redis.call('HDEL', users, user_id)
  redis.call('HDEL', prefix .. ':room-names:' .. room, user_id)
  local rooms = prefix .. ':rooms:online'
  if tonumber(redis.call('ZINCRBY', rooms, -1, room)) <= 0 then redis.call('ZREM', rooms, room) end
  local left = '{"room":"' .. room .. '",' .. string.sub(left_template, 2)
  redis.call('PUBLISH', room_channel(prefix, room), left)
  return 1
end
`;

/**
 * Moves a session into a room. KEYS: node sessions. ARGV: prefix, session key, room, user id,
 * user json, joined payload ('' = do not announce), left template (for the room left).
 * Returns 1 when this was the user's first session in the room, 0 otherwise, -1 if no session.
 */
export const ENTER_ROOM = new LuaScript(
  `${ROOMS}
local prefix, key, room, user_id, user = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local entry = redis.call('HGET', KEYS[1], key)
if not entry then return -1 end
local current = current_room(entry)
if current == room then return 0 end
if current ~= '' then leave_room(prefix, current, user_id, ARGV[7]) end
redis.call('HSET', KEYS[1], key, room .. '\\n' .. user)
if redis.call('HINCRBY', prefix .. ':room-users:' .. room, user_id, 1) ~= 1 then return 0 end
redis.call('HSET', prefix .. ':room-names:' .. room, user_id, user)
redis.call('ZINCRBY', prefix .. ':rooms:online', 1, room)
if ARGV[6] ~= '' then redis.call('PUBLISH', room_channel(prefix, room), ARGV[6]) end
return 1
`,
  1,
);

/**
 * Leaves the session's room and, with close = 1, ends the session (releasing the name after the
 * user's last session). KEYS: node sessions, user session count, name.
 * ARGV: prefix, session key, user id, user json, left template, close (1/0).
 * Returns the room left ('' = none), or false when the session was not open.
 */
export const EXIT_ROOM = new LuaScript(
  `${ROOMS}
local prefix, key, user_id, user = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local entry = redis.call('HGET', KEYS[1], key)
if not entry then return false end
local current = current_room(entry)
if current ~= '' then leave_room(prefix, current, user_id, ARGV[5]) end
if ARGV[6] == '1' then
  redis.call('HDEL', KEYS[1], key)
  if redis.call('DECR', KEYS[2]) <= 0 then
    redis.call('DEL', KEYS[2])
    if redis.call('GET', KEYS[3]) == user then redis.call('DEL', KEYS[3]) end
  end
elseif current ~= '' then
  redis.call('HSET', KEYS[1], key, '\\n' .. user)
end
return current
`,
  3,
);

/** KEYS: nodes zset. ARGV: node id, ttl. Returns 1 when the lease had lapsed or was missing. */
export const HEARTBEAT = new LuaScript(
  `${NOW}
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if not previous or tonumber(previous) <= now then return 1 end
return 0
`,
  1,
);

/** KEYS: nodes zset. Returns the ids of nodes whose lease has lapsed. */
export const EXPIRED_NODES = new LuaScript(
  `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
`,
  1,
);

/**
 * KEYS: nodes zset, reap lock. ARGV: dead node id, reaper id, lock ttl.
 * Returns 1 when this reaper now holds the lock on a node whose lease has lapsed.
 */
export const LOCK_REAP = new LuaScript(
  `${NOW}
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires or tonumber(expires) > now then return 0 end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 0 end
return 1
`,
  2,
);
