import type { ChatMessage, RoomHistoryRequest, RoomHistoryResult } from '@chat/protocol';
import type { Bus } from '../broker/bus';
import { toChatMessage } from '../delivery/room-feed';
import type { Archive, ArchivedMessage } from './archive';

/** Messages in a room `history` page when the client names no limit. */
export const DEFAULT_ROOM_PAGE = 50;
/** Epochs one request walks back through looking for a non-empty page. */
const MAX_EPOCH_HOPS = 4;

export interface RoomHistoryDeps {
  bus: Bus;
  /** Undefined without DATABASE_URL: pages end where the room log does. */
  archive: Archive | undefined;
  /** Stored bytes per log read (HISTORY_PAGE_KB). */
  pageBytes: number;
}

function fromArchive(message: ArchivedMessage): ChatMessage {
  const { id, room, seq, from, text, ts } = message;
  return { id, room, seq, from, text, ts, history: true };
}

/** Log entries of `room` with seq in [from, to], oldest first (several reads if large). */
async function readLog(
  deps: RoomHistoryDeps,
  room: string,
  from: number,
  to: number,
): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  let after = from - 1;
  while (after < to) {
    const range = await deps.bus.range(room, after, to - after, deps.pageBytes);
    const page = range.messages.filter((m) => m.seq <= to);
    if (page.length === 0) break;
    for (const m of page) out.push({ ...toChatMessage(m), history: true });
    after = page[page.length - 1]?.seq ?? to;
  }
  return out;
}

/**
 * A page of a room before a position (see RoomHistoryRequest): the room log covers its
 * window of the current epoch, the archive everything before it and earlier epochs. One page
 * stays in one epoch; an epoch with nothing left below `before` moves on to the previous one.
 */
export async function roomHistory(
  deps: RoomHistoryDeps,
  request: RoomHistoryRequest,
): Promise<RoomHistoryResult> {
  const { room } = request;
  const limit = request.limit ?? DEFAULT_ROOM_PAGE;
  const log = await deps.bus.range(room, 0, 0);
  let epoch = request.epoch ?? log.epoch ?? (await deps.archive?.previousEpoch(room));
  let before = request.before ?? Number.MAX_SAFE_INTEGER;
  for (let hop = 0; hop < MAX_EPOCH_HOPS && epoch !== undefined; hop++) {
    let messages: ChatMessage[] = [];
    let archiveBefore = before;
    if (epoch === log.epoch) {
      const to = Math.min(before - 1, log.head);
      const from = Math.max(log.first, to - limit + 1);
      if (from <= to) messages = await readLog(deps, room, from, to);
      archiveBefore = Math.min(before, log.first, messages[0]?.seq ?? Infinity);
    }
    if (messages.length < limit && deps.archive) {
      const older = await deps.archive.page(room, epoch, archiveBefore, limit - messages.length);
      messages = [...older.map(fromArchive), ...messages];
    }
    if (messages.length > 0) {
      const more =
        messages.length >= limit ||
        (deps.archive !== undefined &&
          (await deps.archive.previousEpoch(room, epoch)) !== undefined);
      return { room, epoch, messages, more };
    }
    const previous = await deps.archive?.previousEpoch(room, epoch);
    if (previous === undefined) return { room, epoch, messages: [], more: false };
    epoch = previous;
    before = Number.MAX_SAFE_INTEGER;
  }
  return epoch === undefined
    ? { room, messages: [], more: false }
    : { room, epoch, messages: [], more: true };
}
