import { LuaScript, replyArray } from './lua-script';

/**
 * A node's check-in with the broker: the cluster's epoch (created from `candidate` if there is
 * none: first use, or a Redis that lost everything), and the node's mark swapped for `mark`,
 * answering the one found. A node that finds another epoch than it saw, or another mark than it
 * wrote, knows Redis lost or rolled back data and re-asserts what it owns.
 */
export const CHECK_IN = new LuaScript({
  name: 'check-in',
  keys: ['cluster_epoch', 'node_mark'],
  argv: ['candidate', 'mark', 'mark_ttl_ms'],
  body: `
local epoch = redis.call('GET', cluster_epoch)
if not epoch then
  epoch = candidate
  redis.call('SET', cluster_epoch, epoch)
end
local previous = redis.call('GET', node_mark) or ''
redis.call('SET', node_mark, mark, 'PX', mark_ttl_ms)
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
