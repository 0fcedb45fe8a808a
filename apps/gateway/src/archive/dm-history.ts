import type { DirectMessage } from '@chat/protocol';
import type { Archive, ArchivedDm, DmCursor } from './archive';

function fromArchive(message: ArchivedDm): DirectMessage {
  const { id, conversation, seq, from, to, text, ts } = message;
  return { id, conversation, seq, from, to, text, ts };
}

export interface DmPageRequest {
  before?: number;
  beforeTs?: number;
  limit: number;
}

/**
 * Completes a page of a conversation from the archive where the Redis window ends: `window`
 * is what the window held (ascending, at most `limit`, the newest before `before`), `first`
 * the window's lowest seq. Archived messages come before the window's oldest in (ts, seq)
 * order, which also orders the lives of a conversation that started over. Resolves to the
 * page and whether anything earlier exists.
 */
export async function earlierDms(
  archive: Archive,
  conversation: string,
  request: DmPageRequest,
  window: DirectMessage[],
  first: number,
): Promise<{ messages: DirectMessage[]; more: boolean }> {
  const oldest = window[0];
  const wanted = request.limit - window.length;
  if (wanted === 0 && oldest !== undefined && oldest.seq > first) {
    return { messages: window, more: true };
  }
  let cursor: DmCursor | undefined;
  if (oldest) cursor = { ts: oldest.ts, seq: oldest.seq };
  else if (request.before === undefined || request.before === 0) {
    cursor = { ts: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER };
  } else {
    const ts = request.beforeTs ?? (await archive.dmTs(conversation, request.before));
    if (ts !== undefined) cursor = { ts, seq: request.before };
  }
  if (cursor === undefined) return { messages: window, more: false };
  // One more than wanted tells whether anything is earlier still.
  const older = await archive.dmPage(conversation, cursor, wanted + 1);
  const kept = older.length > wanted ? older.slice(older.length - wanted) : older;
  const more = older.length > wanted || (oldest !== undefined && oldest.seq > first);
  return { messages: [...kept.map(fromArchive), ...window], more };
}
