import type { Announcement } from '../../quiet-rooms';
import { NEXT_ID } from './fragments';
import { LuaScript, replyArray, replyNumber } from './lua-script';

/**
 * Lua for sessions, names and room membership. Users are stored as canonical JSON (`userJson`),
 * so "held by this user" is a string comparison. A node's sessions live in a hash, field =
 * session key, value = `<room>\n<user json>` (room empty while the session is in no room).
 * Every key, channel and payload comes from the caller (RedisNames, envelope.ts): nothing here
 * builds a name or a JSON document.
 */

/** Returns the subject's user id, allocating one the first time. */
export const SUBJECT_USER = new LuaScript({
  name: 'subject-user',
  keys: ['subject_key', 'user_counter'],
  argv: [],
  body: `${NEXT_ID}
local id = redis.call('GET', subject_key)
if id then return tonumber(id) end
id = next_user_id(user_counter)
redis.call('SET', subject_key, id)
return id
`,
  parse: (reply) => replyNumber(reply, 'subject-user'),
});

/** Claims or renews a name; false when another user holds it. */
export const CLAIM_NAME = new LuaScript({
  name: 'claim-name',
  keys: ['name_key'],
  argv: ['user', 'ttl_ms'],
  body: `
local holder = redis.call('GET', name_key)
if holder and holder ~= user then return 0 end
redis.call('SET', name_key, user, 'PX', ttl_ms)
return 1
`,
  parse: (reply) => reply === 1,
});

/**
 * Renews many users' name leases in one call: `KEYS[i]` is a name's key, `ARGV[1 + i]` its
 * user's JSON (ScriptCall.more); CLAIM_NAME for each, without a round trip each. All keys
 * must be on one server (on a Redis Cluster: one slot). Returns how many were renewed.
 */
export const RENEW_NAMES = new LuaScript({
  name: 'renew-names',
  keys: [],
  argv: ['ttl_ms'],
  body: `
local renewed = 0
for i = 1, #KEYS do
  local user = ARGV[i + 1]
  local holder = redis.call('GET', KEYS[i])
  if not holder or holder == user then
    redis.call('SET', KEYS[i], user, 'PX', ttl_ms)
    renewed = renewed + 1
  end
end
return renewed
`,
  parse: (reply) => replyNumber(reply, 'renew-names'),
});

/**
 * Opens a session (in no room) and claims the name; false, changing nothing, if another user
 * holds the name or this user is online under another name (one user, one name).
 */
export const OPEN_SESSION = new LuaScript({
  name: 'open-session',
  keys: ['name_key', 'user_sessions', 'user_name', 'node_sessions'],
  argv: ['user', 'ttl_ms', 'session'],
  body: `
local holder = redis.call('GET', name_key)
if holder and holder ~= user then return 0 end
local online_as = redis.call('GET', user_name)
if online_as and online_as ~= user and tonumber(redis.call('GET', user_sessions) or '0') > 0 then
  return 0
end
redis.call('SET', name_key, user, 'PX', ttl_ms)
redis.call('SET', user_name, user)
if redis.call('HSETNX', node_sessions, session, '\\n' .. user) == 1 then
  redis.call('INCR', user_sessions)
end
return 1
`,
  parse: (reply) => reply === 1,
});

/**
 * Room membership, shared by ENTER_ROOM and EXIT_ROOM. The caller names the room it read from the
 * session's entry (`expected`) and passes that room's keys; if the entry says otherwise the
 * script changes nothing and answers with the room it found, so counts can never be unbalanced
 * by a stale idea of where a session is. Notices follow `announcement` (quiet-rooms.ts): a
 * room above `quiet_above` members announces nothing, the change across that size goes out as
 * `joined_quiet` / `left_loud` (the notice with its `quiet` flag).
 */
const MEMBERSHIP = `
local quiet_limit = tonumber(quiet_above)
local function current_room(entry)
  return string.sub(entry, 1, string.find(entry, '\\n', 1, true) - 1)
end
local function leave_room(users, names, room, user_id, channel, left)
  if redis.call('HINCRBY', users, user_id, -1) > 0 then return 0 end
  redis.call('HDEL', users, user_id)
  redis.call('HDEL', names, user_id)
  local members = tonumber(redis.call('ZINCRBY', rooms_online, -1, room))
  if members <= 0 then redis.call('ZREM', rooms_online, room) end
  if left == '' or members > quiet_limit then return 0 end
  local due = 2
  if members == quiet_limit then
    left = left_loud
    due = 2 + 8
  end
  if publish ~= '' then redis.call(publish, channel, left) end
  return due
end
`;

/**
 * What a membership script found: `missing` (no such session), `moved` (the session is in
 * `current`, not the room the caller named), or done; `first` when the user's first session in
 * the new room (enter) was this one; `members`: the users in the new room now (enter; 0 for
 * exit). `notices`: the announcements due (`joined` in the new room, `left` in the previous
 * one, each `plain` or with its `quiet` flag, see `announcement`), published by the script
 * itself unless `publish` was '' (a Redis Cluster, where the rooms' channels live on other
 * shards than the membership).
 */
export type MembershipReply =
  | { status: 'missing' }
  | { status: 'moved'; current: string }
  | {
      status: 'done';
      previous: string;
      first: boolean;
      members: number;
      notices: { joined: Announcement; left: Announcement };
    };

function announced(flags: number, due: number, crossing: number): Announcement {
  if ((flags & due) === 0) return 'none';
  return (flags & crossing) === 0 ? 'plain' : 'crossing';
}

function parseMembership(script: string) {
  return (reply: unknown): MembershipReply => {
    const [status, current, due, members] = replyArray(reply, script);
    const room = String(current);
    if (status === -1) return { status: 'missing' };
    if (status === -2) return { status: 'moved', current: room };
    const flags = Number(due ?? 0);
    return {
      status: 'done',
      previous: room,
      first: status === 1,
      members: Number(members ?? 0),
      notices: { joined: announced(flags, 1, 4), left: announced(flags, 2, 8) },
    };
  };
}

/** Moves a session from `expected` ('' = none) into `room`, announcing both changes. */
export const ENTER_ROOM = new LuaScript({
  name: 'enter-room',
  keys: ['node_sessions', 'rooms_online', 'to_users', 'to_names', 'from_users', 'from_names'],
  argv: [
    'publish',
    'session',
    'expected',
    'room',
    'user_id',
    'user',
    'joined',
    'joined_quiet',
    'to_channel',
    'left',
    'left_loud',
    'from_channel',
    'quiet_above',
  ],
  body: `${MEMBERSHIP}
local entry = redis.call('HGET', node_sessions, session)
if not entry then return {-1, ''} end
local current = current_room(entry)
if current ~= expected then return {-2, current} end
local function members()
  return tonumber(redis.call('ZSCORE', rooms_online, room) or '0')
end
if current == room then return {0, current, 0, members()} end
local due = 0
if current ~= '' then due = leave_room(from_users, from_names, current, user_id, from_channel, left) end
redis.call('HSET', node_sessions, session, room .. '\\n' .. user)
if redis.call('HINCRBY', to_users, user_id, 1) ~= 1 then return {0, current, due, members()} end
redis.call('HSET', to_names, user_id, user)
local count = tonumber(redis.call('ZINCRBY', rooms_online, 1, room))
if joined ~= '' and count <= quiet_limit + 1 then
  if count == quiet_limit + 1 then
    joined = joined_quiet
    due = due + 4
  end
  if publish ~= '' then redis.call(publish, to_channel, joined) end
  due = due + 1
end
return {1, current, due, count}
`,
  parse: parseMembership('enter-room'),
});

/**
 * Leaves the session's room (`expected`) and, with close = '1', ends the session, releasing the
 * name after the user's last session. An empty `left` announces nothing (a stale session).
 */
export const EXIT_ROOM = new LuaScript({
  name: 'exit-room',
  keys: [
    'node_sessions',
    'rooms_online',
    'user_sessions',
    'user_name',
    'name_key',
    'from_users',
    'from_names',
  ],
  argv: [
    'publish',
    'session',
    'expected',
    'user_id',
    'user',
    'left',
    'left_loud',
    'from_channel',
    'close',
    'keep_name_ms',
    'quiet_above',
  ],
  body: `${MEMBERSHIP}
local entry = redis.call('HGET', node_sessions, session)
if not entry then return {-1, ''} end
local current = current_room(entry)
if current ~= expected then return {-2, current} end
local due = 0
if current ~= '' then due = leave_room(from_users, from_names, current, user_id, from_channel, left) end
if close == '1' then
  redis.call('HDEL', node_sessions, session)
  if redis.call('DECR', user_sessions) <= 0 then
    redis.call('DEL', user_sessions, user_name)
    if redis.call('GET', name_key) == user then
      if tonumber(keep_name_ms) > 0 then
        redis.call('PEXPIRE', name_key, keep_name_ms)
      else
        redis.call('DEL', name_key)
      end
    end
  end
elseif current ~= '' then
  redis.call('HSET', node_sessions, session, '\\n' .. user)
end
return {0, current, due}
`,
  parse: parseMembership('exit-room'),
});

/**
 * The cluster's resume keys (see ResumeTokens), a sorted set of `<id>:<secret>` by when their
 * node was last seen: adds the caller's (`ARGV` after the named ones: member, seen, ...; a
 * later `seen` wins), drops those older than `oldest` and all but the newest `max_keys`, and
 * answers every one with its score.
 */
export const SHARE_RESUME_KEYS = new LuaScript({
  name: 'share-resume-keys',
  keys: ['ring'],
  argv: ['oldest', 'max_keys', 'keep_ms'],
  body: `
for i = 4, #ARGV, 2 do
  redis.call('ZADD', ring, 'GT', ARGV[i + 1], ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', ring, '-inf', '(' .. oldest)
redis.call('ZREMRANGEBYRANK', ring, 0, -(tonumber(max_keys) + 1))
redis.call('PEXPIRE', ring, keep_ms)
return redis.call('ZRANGE', ring, 0, -1, 'WITHSCORES')
`,
  parse(reply) {
    const flat = replyArray(reply, 'share-resume-keys').map(String);
    const keys: { id: string; secret: string; seen: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [id, secret] = (flat[i] ?? '').split(':');
      const seen = replyNumber(flat[i + 1], 'share-resume-keys');
      if (id && secret) keys.push({ id, secret, seen });
    }
    return keys;
  },
});
