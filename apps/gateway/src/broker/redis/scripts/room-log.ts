import { LuaScript, replyArray, replyNumber } from './lua-script';
import { FENCE, LOG_HEAD, ROOM_EPOCH, SEND_ONCE, TAKE_TOKEN } from './fragments';

export type AppendReply =
  | { status: 'stored'; seq: number; epoch: string }
  | { status: 'duplicate'; id: string; seq: number }
  /** Tokens each bucket held (fewer than 1 in at least one): what a node's local copy takes. */
  | { status: 'rate-limited'; userTokens: number; addressTokens: number }
  | { status: 'rooms-full' }
  /** Nothing stored: the broker fence refused (see FENCE). */
  | { status: 'fenced'; reason: 'forgot' | 'settling' };

/**
 * Stores and publishes one room message. The seq is taken, the draft stored under stream id
 * `<seq>-0` and `<seq> <epoch> <draft>` published in one atomic step, so pub/sub order is seq
 * order. The draft's JSON is stored and sent as the node wrote it: the seq and the log's epoch
 * travel beside it, never spliced into it.
 *
 * Storage stays bounded: both buckets (the user's, and for anonymous senders their address')
 * must hold a token, or neither is spent; a room without a stored log is refused once
 * `max_rooms` rooms have one (`room_index`: room -> time of its last message); the log is
 * trimmed from its oldest entry until it holds at most `max_len` entries and `max_bytes` bytes
 * of drafts (`log_bytes` counts them; the newest entry always stays); and the room's keys expire
 * `room_ttl_ms` after its last message, when the room starts over at seq 1.
 *
 * Positions are never given twice: the log's epoch (`epoch_key`, see ROOM_EPOCH) is created with
 * its first entry from `fresh_epoch` and expires with the log, and on one Redis it is renewed
 * (the log's older entries dropped: they belong to the old epoch) at the first append after the
 * broker's data generation (`cluster_epoch`) changed, that is after every loss a node or client
 * found. The seq is at least `floor` + 1 (the highest seq the sending node delivered), raising the
 * counter, and the counter is kept across a renewal, so the seqs live nodes deliver only go up.
 *
 * `publish` is PUBLISH, or SPUBLISH on a Redis Cluster (the room's channel hashes to the slot of
 * its keys). On a cluster the buckets and the room index live on other shards: the caller takes
 * the tokens and admits the room before (`use_limit`, `use_address_limit`, `use_room_index` are
 * '0', and those keys are only placeholders in the room's slot).
 *
 * One Redis only (`use_fence` '1'): nothing is stored while the broker fence refuses (FENCE:
 * this node's mark `node_mark` is older than `mark`, or the settle window `settle` is open), so
 * no room takes a position before every live node raised it back after a loss.
 */
export const APPEND = new LuaScript({
  name: 'append',
  keys: [
    'seq_counter',
    'log',
    'log_bytes',
    'room_index',
    'cid_key',
    'bucket',
    'address_bucket',
    'epoch_key',
    'node_mark',
    'settle',
    'cluster_epoch',
  ],
  argv: [
    'publish',
    'use_room_index',
    'channel',
    'room',
    'draft',
    'max_len',
    'max_bytes',
    'max_rooms',
    'room_ttl_ms',
    'use_cid',
    'message_id',
    'cid_ttl_ms',
    'use_limit',
    'per_second',
    'burst',
    'use_address_limit',
    'address_per_second',
    'address_burst',
    'floor',
    'fresh_epoch',
    'use_fence',
    'mark',
  ],
  body: `${TAKE_TOKEN}${ROOM_EPOCH}${SEND_ONCE}${FENCE}
if use_fence == '1' then
  local refusal = fence_refusal(node_mark, mark, settle, '1')
  if refusal then return {4, refusal} end
end
if use_cid == '1' then
  local previous = sent_before(cid_key)
  if previous then return previous end
end
local user_tokens, address_tokens = 1, 1
if use_limit == '1' then user_tokens = refill(bucket, tonumber(per_second), tonumber(burst)) end
if use_address_limit == '1' then
  address_tokens = refill(address_bucket, tonumber(address_per_second), tonumber(address_burst))
end
if user_tokens < 1 or address_tokens < 1 then
  return {2, tostring(user_tokens), tostring(address_tokens)}
end
if use_limit == '1' then keep(bucket, user_tokens - 1, tonumber(per_second), tonumber(burst)) end
if use_address_limit == '1' then
  keep(address_bucket, address_tokens - 1, tonumber(address_per_second), tonumber(address_burst))
end
local ttl = tonumber(room_ttl_ms)
if use_room_index == '1' then
  -- A room with a live entry is admitted as it is; expired entries are dropped (and the rest
  -- counted) only for a room that has none, the only case the count decides.
  local last = redis.call('ZSCORE', room_index, room)
  if not last or tonumber(last) <= now - ttl then
    redis.call('ZREMRANGEBYSCORE', room_index, '-inf', now - ttl)
    if redis.call('ZCARD', room_index) >= tonumber(max_rooms) then return {3} end
  end
end
local generation = ''
if use_fence == '1' then generation = redis.call('GET', cluster_epoch) or '' end
local current_epoch, renewed = room_epoch(epoch_key, generation, fresh_epoch, ttl)
if renewed then redis.call('DEL', log, log_bytes) end
local seq = redis.call('INCR', seq_counter)
if seq <= tonumber(floor) then
  seq = tonumber(floor) + 1
  redis.call('SET', seq_counter, seq)
end
redis.call('XADD', log, seq .. '-0', 'e', draft)
-- Read, not INCRBY: the SET below writes the count anyway (with the key's time to live).
local bytes = tonumber(redis.call('GET', log_bytes) or '0') + #draft
local length = redis.call('XLEN', log)
local limit_len, limit_bytes = tonumber(max_len), tonumber(max_bytes)
while length > 1 and (length > limit_len or bytes > limit_bytes) do
  local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', log, oldest[1])
  -- max: a log stored before log_bytes existed was never counted.
  bytes = math.max(0, bytes - #oldest[2][2])
  length = length - 1
end
redis.call('SET', log_bytes, bytes, 'PX', ttl)
redis.call('PEXPIRE', seq_counter, ttl)
redis.call('PEXPIRE', log, ttl)
if use_room_index == '1' then redis.call('ZADD', room_index, now, room) end
redis.call(publish, channel, seq .. ' ' .. current_epoch .. ' ' .. draft)
if use_cid == '1' then remember_send(cid_key, message_id, seq, cid_ttl_ms) end
return {0, seq, current_epoch}
`,
  parse(reply): AppendReply {
    const [status, first, second] = replyArray(reply, 'append');
    if (status === 1) {
      return { status: 'duplicate', id: String(first), seq: replyNumber(second, 'append') };
    }
    if (status === 2) {
      return {
        status: 'rate-limited',
        userTokens: replyNumber(first, 'append'),
        addressTokens: replyNumber(second, 'append'),
      };
    }
    if (status === 3) return { status: 'rooms-full' };
    if (status === 4)
      return { status: 'fenced', reason: first === 'forgot' ? 'forgot' : 'settling' };
    return { status: 'stored', seq: replyNumber(first, 'append'), epoch: String(second) };
  },
});

export type PublishOnceReply =
  | { status: 'published'; receivers: number }
  | { status: 'duplicate'; id: string }
  | { status: 'rate-limited' };

/**
 * Publishes one envelope (with `publish`: PUBLISH or SPUBLISH) at most once per dedupe key,
 * after taking a token. On a cluster the caller takes the token (`use_limit` '0').
 */
export const PUBLISH_ONCE = new LuaScript({
  name: 'publish-once',
  keys: ['bucket', 'dedupe_key'],
  argv: [
    'publish',
    'channel',
    'payload',
    'use_limit',
    'per_second',
    'burst',
    'use_dedupe',
    'id',
    'ttl_ms',
  ],
  body: `${TAKE_TOKEN}
if use_dedupe == '1' then
  local previous = redis.call('GET', dedupe_key)
  if previous then return {1, previous} end
end
if use_limit == '1' and not take(bucket, tonumber(per_second), tonumber(burst)) then
  return {2}
end
local receivers = redis.call(publish, channel, payload)
if use_dedupe == '1' then redis.call('SET', dedupe_key, id, 'PX', ttl_ms) end
return {0, receivers}
`,
  parse(reply): PublishOnceReply {
    const [status, value] = replyArray(reply, 'publish-once');
    if (status === 1) return { status: 'duplicate', id: String(value) };
    if (status === 2) return { status: 'rate-limited' };
    return { status: 'published', receivers: replyNumber(value, 'publish-once') };
  },
});

export interface RangeReply {
  head: number;
  first: number;
  /** Undefined while the room has no log. */
  epoch: string | undefined;
  /** Stored drafts with their seq, oldest first. */
  entries: { seq: number; draft: string }[];
}

/** Reads `{head, first, epoch, seq, draft, seq, draft, ...}`, the reply of every log read. */
export function parseRange(script: string) {
  return (reply: unknown): RangeReply => {
    const [head, first, epoch, ...flat] = replyArray(reply, script);
    const entries: RangeReply['entries'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      entries.push({ seq: replyNumber(flat[i], script), draft: String(flat[i + 1]) });
    }
    return {
      head: replyNumber(head, script),
      first: replyNumber(first, script),
      epoch: epoch === '' || epoch === null ? undefined : String(epoch),
      entries,
    };
  };
}

/**
 * A consistent snapshot of a room's log: its head, its oldest stored seq, and up to `limit`
 * entries after `after` (mode 'after') or the newest `limit` (mode 'latest').
 */
export const RANGE = new LuaScript({
  name: 'range',
  keys: ['seq_counter', 'log', 'epoch_key'],
  argv: ['after', 'limit', 'mode'],
  body: `${LOG_HEAD}local entries
if limit == '0' then
  entries = {}
elseif mode == 'latest' then
  entries = redis.call('XREVRANGE', log, '+', '-', 'COUNT', limit)
else
  entries = redis.call('XRANGE', log, '(' .. after .. '-0', '+', 'COUNT', limit)
end
local out = {head, first, epoch}
local n = #entries
for i = 1, n do
  local entry = entries[i]
  if mode == 'latest' then entry = entries[n - i + 1] end
  out[#out + 1] = tonumber(string.match(entry[1], '^(%d+)'))
  out[#out + 1] = entry[2][2]
end
return out
`,
  parse: parseRange('range'),
});

/**
 * Raises a room's seq counter to `at_least` when it is lower (only ever up), keeping the counter's
 * expiry: what a node that delivered up to `at_least` re-asserts after the broker lost or rolled
 * back the room, so the seqs it delivers keep going up. The epoch is not touched: the room's next
 * append gives the log a new one (see ROOM_EPOCH). Returns the head after.
 */
export const RAISE = new LuaScript({
  name: 'raise-room',
  keys: ['seq_counter'],
  argv: ['at_least', 'room_ttl_ms'],
  body: `
local head = tonumber(redis.call('GET', seq_counter) or '0')
local wanted = tonumber(at_least)
if head < wanted then
  head = wanted
  redis.call('SET', seq_counter, head, 'PX', room_ttl_ms)
end
return head
`,
  parse: (reply) => replyNumber(reply, 'raise-room'),
});
