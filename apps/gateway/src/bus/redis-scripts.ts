import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by EVALSHA. Every script is loaded when a connection becomes ready
 * (`loadAll`), so calls issued in order run in order; the EVAL fallback covers a script cache
 * flushed behind our back.
 */
export class LuaScript {
  private static readonly all: LuaScript[] = [];
  private readonly sha: string;

  constructor(
    private readonly source: string,
    private readonly keyCount: number,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
    LuaScript.all.push(this);
  }

  static async loadAll(redis: Redis): Promise<void> {
    await Promise.all(LuaScript.all.map((script) => redis.script('LOAD', script.source)));
  }

  async run(redis: Redis, args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, this.keyCount, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, this.keyCount, ...args);
    }
  }
}

/**
 * Token bucket, the same arithmetic as token-bucket.ts, in one string key (`<tokens> <at ms>`).
 * Defines take(key, perSecond, burst).
 */
const TAKE_TOKEN = `
local function take(key, per_second, burst)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local tokens, at = burst, now
  local state = redis.call('GET', key)
  if state then
    local split = string.find(state, ' ', 1, true)
    tokens = tonumber(string.sub(state, 1, split - 1))
    at = tonumber(string.sub(state, split + 1))
  end
  tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * per_second)
  local allowed = tokens >= 1
  if allowed then tokens = tokens - 1 end
  redis.call('SET', key, tostring(tokens) .. ' ' .. now, 'PX', math.ceil(burst / per_second * 1000) + 1000)
  return allowed
end
`;

/**
 * Stores and publishes one room message. The seq is taken, the entry stored under stream id
 * `<seq>-0` and the envelope published in one atomic step, so pub/sub order is seq order.
 * KEYS: seq counter, stream, cid key, rate bucket.
 * ARGV: channel, draft JSON (without seq), max stream length, use cid (1/0), message id,
 *       cid ttl ms, use rate limit (1/0), per second, burst.
 * Returns {0, seq} stored | {1, id, seq} duplicate cid | {2} rate limited.
 */
export const APPEND = new LuaScript(
  `${TAKE_TOKEN}
if ARGV[4] == '1' then
  local previous = redis.call('GET', KEYS[3])
  if previous then
    local split = string.find(previous, ' ', 1, true)
    return {1, string.sub(previous, 1, split - 1), tonumber(string.sub(previous, split + 1))}
  end
end
if ARGV[7] == '1' and not take(KEYS[4], tonumber(ARGV[8]), tonumber(ARGV[9])) then
  return {2}
end
local seq = redis.call('INCR', KEYS[1])
local payload = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'e', payload)
redis.call('PUBLISH', ARGV[1], payload)
if ARGV[4] == '1' then
  redis.call('SET', KEYS[3], ARGV[5] .. ' ' .. seq, 'PX', ARGV[6])
end
return {0, seq}
`,
  4,
);

/**
 * Publishes one envelope at most once per dedupe key, after taking a token.
 * KEYS: rate bucket, dedupe key. ARGV: channel, payload, use rate limit (1/0), per second,
 * burst, use dedupe (1/0), id to remember, dedupe ttl ms.
 * Returns {0, receivers} published | {1, id} duplicate | {2} rate limited.
 */
export const PUBLISH_ONCE = new LuaScript(
  `${TAKE_TOKEN}
if ARGV[6] == '1' then
  local previous = redis.call('GET', KEYS[2])
  if previous then return {1, previous} end
end
if ARGV[3] == '1' and not take(KEYS[1], tonumber(ARGV[4]), tonumber(ARGV[5])) then return {2} end
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2])
if ARGV[6] == '1' then redis.call('SET', KEYS[2], ARGV[7], 'PX', ARGV[8]) end
return {0, receivers}
`,
  2,
);

/**
 * A consistent snapshot of a room's log. KEYS: seq counter, stream. ARGV: after, limit, mode
 * ('after' | 'latest'). Returns {head, first, payload...} with payloads oldest first.
 */
export const RANGE = new LuaScript(
  `
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local first = head + 1
if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
local entries
if ARGV[2] == '0' then
  entries = {}
elseif ARGV[3] == 'latest' then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[2])
else
  entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
local out = {head, first}
local n = #entries
for i = 1, n do
  local entry = entries[i]
  if ARGV[3] == 'latest' then entry = entries[n - i + 1] end
  out[#out + 1] = entry[2][2]
end
return out
`,
  2,
);
