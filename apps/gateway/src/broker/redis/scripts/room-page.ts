import { LOG_HEAD } from './fragments';
import { LuaScript } from './lua-script';
import { parseRange } from './room-log';

/** Entries read per XRANGE inside one page, so a page never reads far past its byte bound. */
const STEP = 16;

/**
 * One bounded page of a room's log: its head, its oldest stored seq, its epoch, and the entries after
 * `after`, oldest first, stopping at `limit` entries or at the entry that brings the drafts'
 * bytes to `max_bytes`, whichever comes first (at least one entry when there is one, so a
 * reader always makes progress). Redis runs scripts one at a time, so bounding the bytes a call
 * reads and returns bounds how long every other client of this Redis waits behind it.
 */
export const RANGE_PAGE = new LuaScript({
  name: 'range-page',
  keys: ['seq_counter', 'log', 'epoch_key'],
  argv: ['after', 'limit', 'max_bytes'],
  body: `${LOG_HEAD}local out = {head, first, epoch}
local wanted = tonumber(limit)
local budget = tonumber(max_bytes)
local cursor = '(' .. after .. '-0'
local count = 0
local bytes = 0
while count < wanted and bytes < budget do
  local step = math.min(${STEP}, wanted - count)
  local entries = redis.call('XRANGE', log, cursor, '+', 'COUNT', step)
  for i = 1, #entries do
    local entry = entries[i]
    local draft = entry[2][2]
    out[#out + 1] = tonumber(string.match(entry[1], '^(%d+)'))
    out[#out + 1] = draft
    count = count + 1
    bytes = bytes + #draft
    cursor = '(' .. entry[1]
    if bytes >= budget then break end
  end
  if #entries < step then break end
end
return out
`,
  parse: parseRange('range-page'),
});
