import { FENCE, LOSS_FOUND, NEXT_ID, NOW } from './fragments';
import { LuaScript, replyArray, replyNumber } from './lua-script';

/**
 * A node's check-in with the broker: the cluster's epoch (created from `candidate` if there is
 * none: first use, or a Redis that lost everything), and the node's mark swapped for `mark`,
 * answering the one found. A node that finds another epoch than it saw, or another mark than it
 * wrote, knows Redis lost or rolled back data and re-asserts what it owns.
 *
 * With `settle_ms` above 0, finding no mark or an older one than `expected` (the one this node
 * wrote last; '' at its first check-in) is a loss (LOSS_FOUND), in the same step: the cluster
 * epoch becomes `candidate` (a new generation of the broker's data: every room log renews its
 * epoch), the cluster's settle window opens (`settle` expires `settle_ms` from now; a later
 * finding extends it), during which fenced room appends are refused, and the user-id counter
 * (`user_counter`) is raised above Redis' time in ms, so no id handed out before the loss comes
 * back (see BrokerFence). Every node that finds the loss starts a generation: a rolled-back
 * cluster epoch cannot tell whether another node's rotation came before or after the loss.
 * `suspect` '1' (the node saw a new Sentinel master, see BrokerFence.suspect) is a loss whatever
 * the marks show: a promoted replica may lack appends the old master acknowledged and published
 * while holding every mark, so its room counters would give those positions again in the same
 * epoch. Every node that sees the new master starts a generation this way before its first
 * fenced write to it; the cost: every room's next append starts a new epoch (members told
 * `synced {renewed}`) and retries across the promotion are refused `RECORDS_LOST`.
 */
export const CHECK_IN = new LuaScript({
  name: 'check-in',
  keys: ['cluster_epoch', 'node_mark', 'settle', 'user_counter'],
  argv: ['candidate', 'mark', 'mark_ttl_ms', 'expected', 'settle_ms', 'suspect'],
  body: `${NOW}${FENCE}${LOSS_FOUND}
local epoch = redis.call('GET', cluster_epoch)
if not epoch then
  epoch = candidate
  redis.call('SET', cluster_epoch, epoch)
end
local previous = redis.call('GET', node_mark) or ''
redis.call('SET', node_mark, mark, 'PX', mark_ttl_ms)
-- Numerically: a check-in of ours that timed out but ran (a higher mark) is no loss.
local lost = expected ~= '' and mark_number(previous) < mark_number(expected)
if tonumber(settle_ms) > 0 and (lost or suspect == '1') then
  epoch = candidate
  loss_found(cluster_epoch, epoch, settle, settle_ms, mark, user_counter)
end
return {epoch, previous}
`,
  parse(reply) {
    const [epoch, previous] = replyArray(reply, 'check-in').map(String);
    return { epoch: epoch ?? '', previousMark: previous === '' ? undefined : previous };
  },
});

/** Raises a counter to `at_least` when it is lower; never lowers it. */
export const RAISE_COUNTER = new LuaScript({
  name: 'raise-counter',
  keys: ['counter'],
  argv: ['at_least'],
  body: `
if tonumber(redis.call('GET', counter) or '0') < tonumber(at_least) then
  redis.call('SET', counter, at_least)
end
return 1
`,
  parse: () => undefined,
});

/**
 * The next user id (never below Redis' time in µs, see NEXT_ID), unless this node's mark shows
 * Redis lost or rolled back data since the node's last check-in (then -1, nothing changed: the
 * node checks in, which raises the counter).
 */
export const NEXT_USER_ID = new LuaScript({
  name: 'next-user-id',
  keys: ['user_counter', 'node_mark'],
  argv: ['mark'],
  body: `${FENCE}${NEXT_ID}
if fence_refusal(node_mark, mark, '', '0') then return -1 end
return next_user_id(user_counter)
`,
  parse: (reply) => replyNumber(reply, 'next-user-id'),
});

/**
 * A loss found without a check-in (a client's resume names a position of a room's current epoch
 * beyond its head: the broker lost it): starts a new generation as a check-in that finds a loss
 * does (LOSS_FOUND). Returns the new cluster epoch.
 */
export const LOSS_WITNESSED = new LuaScript({
  name: 'loss-witnessed',
  keys: ['cluster_epoch', 'settle', 'user_counter'],
  argv: ['candidate', 'settle_ms', 'witness'],
  body: `${NOW}${LOSS_FOUND}
loss_found(cluster_epoch, candidate, settle, settle_ms, witness, user_counter)
return candidate
`,
  parse: (reply) => String(reply),
});
