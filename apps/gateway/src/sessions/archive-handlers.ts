import {
  parseSearch,
  type DirectMessage,
  type Result,
  type RoomHistoryRequest,
  type RoomHistoryResult,
  type SearchResult,
} from '@chat/protocol';
import { ArchiveUnavailableError, type Archive } from '../archive/archive';
import { earlierDms, type DmPageRequest } from '../archive/dm-history';
import { roomHistory } from '../archive/room-history';
import type { GatewayContext } from '../context';
import { ClientError, clientError } from '../errors';
import type { LocalSession } from './registry';

/** Search answers when the client names no limit. */
const DEFAULT_SEARCH_RESULTS = 20;

/**
 * History and search of a room are for its members: a session reads the room it is in. Each
 * read takes from the address' replay budget (REPLAY_RATE_PER_IP), before any work is done.
 */
function admitRead(ctx: GatewayContext, session: LocalSession, room: string): void {
  if (session.room !== room) {
    throw clientError('NOT_JOINED', `only members of #${room} can read its history; join it first`);
  }
  const refused = ctx.joins.takeRead(session.socket);
  if (refused) throw new ClientError(refused);
}

/** What clients are told while PostgreSQL fails: the messages are there, retrying helps. */
export const ARCHIVE_UNAVAILABLE =
  'the message archive (PostgreSQL) cannot be reached right now; nothing is lost, retry';

function archiveFailure(ctx: GatewayContext, error: unknown, event: string): never {
  if (!(error instanceof ArchiveUnavailableError)) throw error;
  ctx.logger.warn({ event, err: error.message }, 'request failed: archive unavailable');
  throw clientError('UNAVAILABLE', ARCHIVE_UNAVAILABLE);
}

/**
 * A conversation's page completed from the archive beyond the Redis window (see earlierDms).
 * Only a page the window cannot fill reads the archive, and takes from the replay budget.
 */
export async function earlierDmsHandler(
  ctx: GatewayContext,
  archive: Archive,
  session: LocalSession,
  conversation: string,
  request: DmPageRequest,
  window: DirectMessage[],
  first: number,
): Promise<{ messages: DirectMessage[]; more: boolean }> {
  if (window.length < request.limit) {
    const refused = ctx.joins.takeRead(session.socket);
    if (refused) throw new ClientError(refused);
  }
  return earlierDms(archive, conversation, request, window, first).catch((error: unknown) =>
    archiveFailure(ctx, error, 'history'),
  );
}

/** `history { room, before?, epoch?, limit? }`: see roomHistory. */
export async function roomHistoryHandler(
  ctx: GatewayContext,
  session: LocalSession,
  request: RoomHistoryRequest,
): Promise<RoomHistoryResult> {
  admitRead(ctx, session, request.room);
  const pageBytes = Math.min(ctx.config.historyPageKb, ctx.config.maxBufferedKb / 4) * 1024;
  return roomHistory({ bus: ctx.bus, archive: ctx.archive?.archive, pageBytes }, request).catch(
    (error: unknown) => archiveFailure(ctx, error, 'history'),
  );
}

function valid<T>(result: Result<T>): T {
  if (!result.ok) throw new ClientError(result.error);
  return result.value;
}

/** `search { q, room?, limit? }`: archived messages of the room matching the words. */
export async function search(
  ctx: GatewayContext,
  session: LocalSession,
  payload: unknown,
): Promise<SearchResult> {
  const request = valid(parseSearch(payload));
  const room = request.room ?? session.room;
  if (room === undefined) throw clientError('NOT_JOINED', 'not in a room; name one');
  admitRead(ctx, session, room);
  const archive = ctx.archive?.archive;
  if (archive === undefined) {
    throw clientError(
      'BAD_REQUEST',
      'search needs the message archive, and this cluster runs without one (no DATABASE_URL)',
    );
  }
  const found = await archive
    .search(room, request.q, request.limit ?? DEFAULT_SEARCH_RESULTS)
    .catch((error: unknown) => archiveFailure(ctx, error, 'search'));
  return {
    room,
    messages: found.map(({ id, seq, from, text, ts }) => ({
      id,
      room,
      seq,
      from,
      text,
      ts,
      history: true,
    })),
  };
}
