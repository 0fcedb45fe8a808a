import { NOW } from './fragments';
import { LuaScript, replyArray } from './lua-script';

/** Renews a node's lease; true when it had lapsed or was missing. */
export const HEARTBEAT = new LuaScript({
  name: 'heartbeat',
  keys: ['leases'],
  argv: ['node', 'ttl_ms'],
  body: `${NOW}
local previous = redis.call('ZSCORE', leases, node)
redis.call('ZADD', leases, now + tonumber(ttl_ms), node)
if not previous or tonumber(previous) <= now then return 1 end
return 0
`,
  parse: (reply) => reply === 1,
});

/** The ids of nodes whose lease has lapsed. */
export const EXPIRED_NODES = new LuaScript({
  name: 'expired-nodes',
  keys: ['leases'],
  argv: [],
  body: `${NOW}
return redis.call('ZRANGEBYSCORE', leases, '-inf', now)
`,
  parse: (reply) => replyArray(reply, 'expired-nodes').map(String),
});

/** True when `reaper` now holds the lock on `node`, whose lease has lapsed. */
export const LOCK_REAP = new LuaScript({
  name: 'lock-reap',
  keys: ['leases', 'lock'],
  argv: ['node', 'reaper', 'lock_ttl_ms'],
  body: `${NOW}
local expires = redis.call('ZSCORE', leases, node)
if not expires or tonumber(expires) > now then return 0 end
if not redis.call('SET', lock, reaper, 'NX', 'PX', lock_ttl_ms) then return 0 end
return 1
`,
  parse: (reply) => reply === 1,
});
