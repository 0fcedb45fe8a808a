import type { UserRef } from '@chat/protocol';
import { decodeRecipient } from '../../dm-store';
import { LuaScript, replyArray, replyNumber } from './lua-script';
import { FENCE, SEND_ONCE, TAKE_TOKEN } from './fragments';

export type DmAppendReply =
  | { status: 'stored'; seq: number }
  | { status: 'duplicate'; id: string; seq: number }
  | { status: 'rate-limited' }
  /** Nothing stored: an earlier try with the `cid` went to `to` (see DmStore.firstRecipient). */
  | { status: 'redirected'; to: UserRef }
  /** Nothing stored: the broker fence refused (see FENCE). */
  | { status: 'fenced'; reason: 'forgot' | 'settling' };

/**
 * Stores and publishes one private message: the conversation's seq is taken, the draft stored
 * under stream id `<seq>-0` (the log trimmed to `max_len`), both users' conversation indexes
 * touched, the sender's read and delivered marks set to the seq (they wrote it), and
 * `<seq> <draft>` published to the recipient's and the sender's user channels, in one atomic
 * step: publish order is seq order. Every key expires `ttl_ms` after the last message. With an
 * archive (`active_ms` > 0) the conversation is also stamped in the cluster-wide index of
 * recently active conversations (kept `active_ms`), which the archive's recovery sweep reads.
 *
 * On a Redis Cluster the users' keys and channels live on other shards than the conversation:
 * with `store_only` = '1' the script takes the seq and stores the draft (cid check included) and
 * nothing else; the caller then takes the token before, and touches the indexes, the marks and
 * the users' channels after (see RedisDms).
 *
 * With a `cid` and `recipient` (`<id>:<name>`, one Redis only), the first try's recipient is
 * recorded in `recipient_key` with the store, and a try addressed to another user is refused
 * (5, the first recipient): a retry goes where its first try went.
 *
 * One Redis only (`use_fence` '1'): nothing is stored while the broker fence refuses (as for a
 * room's APPEND), so no conversation takes a position before every live node raised the
 * conversations its sessions were given after a loss.
 */
export const DM_APPEND = new LuaScript({
  name: 'dm-append',
  keys: [
    'seq_counter',
    'log',
    'cid_key',
    'bucket',
    'from_index',
    'to_index',
    'from_marks',
    'active_index',
    'node_mark',
    'settle',
    'recipient_key',
  ],
  argv: [
    'publish',
    'store_only',
    'to_channel',
    'from_channel',
    'conversation',
    'draft',
    'max_len',
    'ttl_ms',
    'active_ms',
    'use_cid',
    'message_id',
    'cid_ttl_ms',
    'use_limit',
    'per_second',
    'burst',
    'use_fence',
    'mark',
    'recipient',
  ],
  body: `${TAKE_TOKEN}${SEND_ONCE}${FENCE}
if use_fence == '1' then
  local refusal = fence_refusal(node_mark, mark, settle, '1')
  if refusal then return {4, refusal} end
end
if recipient ~= '' then
  local first = redis.call('GET', recipient_key)
  if first and first ~= recipient then return {5, first} end
end
if use_cid == '1' then
  local previous = sent_before(cid_key)
  if previous then return previous end
end
if use_limit == '1' and not take(bucket, tonumber(per_second), tonumber(burst)) then
  return {2}
end
local ttl = tonumber(ttl_ms)
local seq = redis.call('INCR', seq_counter)
redis.call('XADD', log, 'MAXLEN', max_len, seq .. '-0', 'e', draft)
redis.call('PEXPIRE', seq_counter, ttl)
redis.call('PEXPIRE', log, ttl)
if store_only == '1' then
  if use_cid == '1' then remember_send(cid_key, message_id, seq, cid_ttl_ms) end
  return {0, seq}
end
for _, index in ipairs({from_index, to_index}) do
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl)
  redis.call('ZADD', index, now, conversation)
  redis.call('PEXPIRE', index, ttl)
end
if active_ms ~= '0' then
  redis.call('ZREMRANGEBYSCORE', active_index, '-inf', now - tonumber(active_ms))
  redis.call('ZADD', active_index, now, conversation)
  redis.call('PEXPIRE', active_index, active_ms)
end
redis.call('HSET', from_marks, 'r:' .. conversation, seq, 'd:' .. conversation, seq)
redis.call('PEXPIRE', from_marks, ttl)
redis.call(publish, to_channel, seq .. ' ' .. draft)
if from_channel ~= to_channel then redis.call(publish, from_channel, seq .. ' ' .. draft) end
if use_cid == '1' then remember_send(cid_key, message_id, seq, cid_ttl_ms) end
if recipient ~= '' then redis.call('SET', recipient_key, recipient, 'PX', cid_ttl_ms) end
return {0, seq}
`,
  parse(reply): DmAppendReply {
    const [status, first, second] = replyArray(reply, 'dm-append');
    if (status === 1) {
      return { status: 'duplicate', id: String(first), seq: replyNumber(second, 'dm-append') };
    }
    if (status === 2) return { status: 'rate-limited' };
    if (status === 5) {
      const to = decodeRecipient(String(first));
      if (to === undefined)
        throw new Error(`dm-append: unreadable first recipient ${String(first)}`);
      return { status: 'redirected', to };
    }
    if (status === 4) {
      return { status: 'fenced', reason: first === 'forgot' ? 'forgot' : 'settling' };
    }
    return { status: 'stored', seq: replyNumber(first, 'dm-append') };
  },
});

/** Raises one mark (`field` of the user's marks hash) to `seq`, never lowering it. */
export const DM_MARK = new LuaScript({
  name: 'dm-mark',
  keys: ['marks'],
  argv: ['field', 'seq', 'ttl_ms'],
  body: `
local current = tonumber(redis.call('HGET', marks, field) or '0')
if tonumber(seq) > current then redis.call('HSET', marks, field, seq) end
redis.call('PEXPIRE', marks, ttl_ms)
return 0
`,
  parse: () => undefined,
});

/** Raises a conversation's seq counter to `at_least` (never lowers it), keeping it `ttl_ms`. */
export const DM_RAISE = new LuaScript({
  name: 'dm-raise',
  keys: ['seq_key'],
  argv: ['at_least', 'ttl_ms'],
  body: `
if tonumber(redis.call('GET', seq_key) or '0') < tonumber(at_least) then
  redis.call('SET', seq_key, at_least, 'PX', ttl_ms)
end
return 1
`,
  parse: () => undefined,
});

/**
 * Redis Cluster only (where the record is in the sender's slot, not the conversation's): the
 * recipient a sender's DM with this `cid` was first addressed to (`recipient`, kept `ttl_ms`),
 * recorded by the first try before its store and returned to every retry (see DM_APPEND).
 */
export const DM_RECIPIENT = new LuaScript({
  name: 'dm-recipient',
  keys: ['recipient_key'],
  argv: ['recipient', 'ttl_ms'],
  body: `
local first = redis.call('GET', recipient_key)
if first then return first end
redis.call('SET', recipient_key, recipient, 'PX', ttl_ms)
return recipient
`,
  parse: (reply): string | undefined => (typeof reply === 'string' ? reply : undefined),
});
