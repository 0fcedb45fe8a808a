import { NOW, TAKE_TOKEN } from './fragments';
import { LuaScript, replyArray, replyNumber } from './lua-script';

/**
 * Scripts only a Redis Cluster needs: there one script may touch only one slot, so what a single
 * Redis does inside a room's or a conversation's append (a sender's tokens, the index of stored
 * rooms, the users' conversation indexes) is a call of its own, each on one key.
 */

export type TakeReply = { taken: true } | { taken: false; tokens: number };

/** Takes one token from `bucket` (see TAKE_TOKEN); on refusal, the tokens it held. */
export const TAKE = new LuaScript({
  name: 'take',
  keys: ['bucket'],
  argv: ['per_second', 'burst'],
  body: `${TAKE_TOKEN}
local rate, size = tonumber(per_second), tonumber(burst)
local tokens = refill(bucket, rate, size)
if tokens < 1 then
  keep(bucket, tokens, rate, size)
  return {0, tostring(tokens)}
end
keep(bucket, tokens - 1, rate, size)
return {1}
`,
  parse(reply): TakeReply {
    const [taken, tokens] = replyArray(reply, 'take');
    return taken === 1 ? { taken: true } : { taken: false, tokens: replyNumber(tokens, 'take') };
  },
});

/** Returns one token taken from `bucket` (the other bucket of a send refused), up to `burst`. */
export const GIVE_BACK = new LuaScript({
  name: 'give-back',
  keys: ['bucket'],
  argv: ['per_second', 'burst'],
  body: `${TAKE_TOKEN}
local rate, size = tonumber(per_second), tonumber(burst)
keep(bucket, math.min(size, refill(bucket, rate, size) + 1), rate, size)
return 1
`,
  parse: () => undefined,
});

/**
 * Admits `room` into the index of rooms with a stored log (`room_index`: room -> when a node last
 * admitted it) unless `max_rooms` others are in it; entries older than `keep_ms` leave it. Nodes
 * admit a room again well within `keep_ms` while they send to it, so the index holds every room
 * whose log still lives (and, for a while after, some whose log expired: it errs on refusing).
 */
export const ADMIT_ROOM = new LuaScript({
  name: 'admit-room',
  keys: ['room_index'],
  argv: ['room', 'max_rooms', 'keep_ms'],
  body: `${NOW}
redis.call('ZREMRANGEBYSCORE', room_index, '-inf', now - tonumber(keep_ms))
if not redis.call('ZSCORE', room_index, room) then
  if redis.call('ZCARD', room_index) >= tonumber(max_rooms) then return 0 end
end
redis.call('ZADD', room_index, now, room)
return 1
`,
  parse: (reply) => reply === 1,
});

/** Puts `conversation` at the top of one user's index of conversations, kept `ttl_ms`. */
export const DM_TOUCH = new LuaScript({
  name: 'dm-touch',
  keys: ['index'],
  argv: ['conversation', 'ttl_ms'],
  body: `${NOW}
local ttl = tonumber(ttl_ms)
redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl)
redis.call('ZADD', index, now, conversation)
redis.call('PEXPIRE', index, ttl)
return 1
`,
  parse: () => undefined,
});
