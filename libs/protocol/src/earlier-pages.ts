import type { HistoryResult, RoomHistoryRequest, RoomHistoryResult } from './events';

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
