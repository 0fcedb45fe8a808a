import type {
  HistoryRequest,
  HistoryResult,
  RoomHistoryRequest,
  RoomHistoryResult,
} from './events';
import { nameKey } from './name-key';

/** Messages one "earlier messages" page asks for. */
export const EARLIER_PAGE = 20;

interface Cursor {
  /** The earliest seq shown in the room; the next page is what came before it. */
  before: number;
  epoch: string | undefined;
}

/**
 * A client's bookkeeping for paging a room back (`history { room }`: the CLI's `/more`, the web
 * page's "earlier messages"): before the earliest message seen there (live, history on joining,
 * or an earlier page), in that message's epoch.
 */
export class EarlierPages {
  private readonly cursors = new Map<string, Cursor>();

  /** A message shown in `room` (at `seq` of the room log's `epoch`, when known). */
  seen(room: string, seq: number, epoch: string | undefined): void {
    const cursor = this.cursors.get(room);
    if (cursor === undefined || seq < cursor.before) this.cursors.set(room, { before: seq, epoch });
  }

  /** The next page's request for `room`. */
  request(room: string): RoomHistoryRequest {
    const cursor = this.cursors.get(room);
    const request: RoomHistoryRequest = { room, limit: EARLIER_PAGE };
    if (cursor === undefined) return request;
    request.before = cursor.before;
    if (cursor.epoch !== undefined) request.epoch = cursor.epoch;
    return request;
  }

  /** A page arrived: the next one goes on before its first message (or its epoch's start). */
  paged(result: RoomHistoryResult): void {
    const first = result.messages[0];
    this.cursors.set(result.room, { before: first?.seq ?? 0, epoch: result.epoch });
  }
}

/**
 * The same for private conversations (`history { with }`: the CLI's `/more NAME`, the web
 * page's "earlier messages with NAME"): before the earliest message of the conversation shown
 * (by `/history`, or an earlier page), by its seq and its ts (the ts takes a page past the
 * point where a conversation that Redis forgot started over).
 */
export class EarlierDms {
  private readonly cursors = new Map<string, { before: number; beforeTs: number }>();

  /** The next page's request for the conversation with `peer` (the newest page at first). */
  request(peer: string): HistoryRequest {
    const request: HistoryRequest = { with: peer, limit: EARLIER_PAGE };
    const cursor = this.cursors.get(nameKey(peer));
    if (cursor === undefined) return request;
    return { ...request, before: cursor.before, beforeTs: cursor.beforeTs };
  }

  /** A page of the conversation with `peer` was shown: the next one goes on before its first. */
  paged(peer: string, result: HistoryResult): void {
    const first = result.messages[0];
    if (first !== undefined) {
      this.cursors.set(nameKey(peer), { before: first.seq, beforeTs: first.ts });
    }
  }
}

/** Whether anything is earlier than this page of a conversation, in Redis or the archive. */
export function dmHasEarlier(result: HistoryResult): boolean {
  if (result.more !== undefined) return result.more;
  const first = result.messages[0];
  return first !== undefined && first.seq > result.first;
}

/**
 * What a client says above a page of a conversation (the CLI's `/history`, the web page's):
 * with an archive (`more` present) nothing is gone, earlier messages are only not shown; without
 * one, how many the Redis window no longer keeps. `peer` is the other user's (sanitized) name.
 */
export function dmPageNotice(result: HistoryResult, peer: string): string | undefined {
  if (result.more === true)
    return `! earlier messages with ${peer} are kept in the archive (not shown)`;
  if (result.more === undefined && result.first > 1) {
    return `! ${result.first - 1} earlier messages with ${peer} are no longer kept`;
  }
  return undefined;
}
