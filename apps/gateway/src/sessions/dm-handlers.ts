import {
  parseDm,
  parseDms,
  parseHistory,
  type DmResult,
  type DmsResult,
  type HistoryResult,
  type Result,
  type RoomHistoryResult,
  type UserRef,
} from '@chat/protocol';
import { conversationId, type DmAppendOutcome } from '../broker/dm-store';
import { ENVELOPE_VERSION } from '../broker/envelope';
import { type GatewayContext, userRateLimit } from '../context';
import { toDirectMessage } from '../delivery/dm-inbox';
import { ClientError, clientError, rethrowWriteFailure } from '../errors';
import type { LocalSession } from './registry';
import { earlierDmsHandler, roomHistoryHandler } from './archive-handlers';

type Handler<T> = (ctx: GatewayContext, session: LocalSession, payload: unknown) => Promise<T>;

/** Messages in a `history` page when the client names no limit. */
const DEFAULT_HISTORY_PAGE = 50;

function valid<T>(result: Result<T>): T {
  if (!result.ok) throw new ClientError(result.error);
  return result.value;
}

/**
 * The user a name stands for in a conversation: whoever holds it online, else the user id that
 * last held it within the retention period. Names nobody has held: USER_NOT_FOUND, which is
 * final; so while the broker recovers from a loss (a connected user's node may not have written
 * its name back yet) the answer is a retryable UNAVAILABLE instead, nothing stored.
 */
async function resolve(ctx: GatewayContext, name: string): Promise<UserRef> {
  const online = await ctx.state.findUser(name);
  if (online) return online;
  const id = await ctx.dms.lastHolder(name);
  if (id !== undefined) return { id, name };
  await ctx.state.settled();
  throw clientError('USER_NOT_FOUND', `nobody called '${name}' is known`);
}

/**
 * Who a DM goes to. A retry (a `cid` tried before) goes to the user its first try went to, even
 * when the name has changed hands since (the first try may be stored and delivered already: a
 * retry must not give the same text to a second user) or nobody holds it any more.
 */
async function recipient(
  ctx: GatewayContext,
  session: LocalSession,
  request: { to: string; cid?: string },
): Promise<UserRef> {
  const { cid } = request;
  const first = cid === undefined ? undefined : await ctx.dms.firstRecipient(session.user.id, cid);
  return first ?? resolve(ctx, request.to);
}

/** Stores the DM in the pair's conversation and publishes it to both (see DmStore). */
export const dm: Handler<DmResult> = async (ctx, session, payload) => {
  const request = valid(parseDm(payload));
  let tried = await storeDm(ctx, session, request, await recipient(ctx, session, request));
  // Another try of this DM, racing this one, was addressed to someone else first: it is that DM.
  if (tried.outcome.status === 'redirected') {
    tried = await storeDm(ctx, session, request, tried.outcome.to);
  }
  const { outcome, id, to, conversation } = tried;
  switch (outcome.status) {
    case 'rate-limited':
      throw clientError('RATE_LIMITED');
    case 'duplicate':
      return { id: outcome.id, to, conversation, seq: outcome.seq };
    case 'stored':
      return { id, to, conversation, seq: outcome.seq };
    case 'unsure':
      throw clientError('RECORDS_LOST');
    case 'redirected':
      throw clientError('UNAVAILABLE', 'this DM is being sent elsewhere; nothing stored, retry');
  }
};

/** One try at storing the DM `request` to `to`: what the store said, and the id it offered. */
async function storeDm(
  ctx: GatewayContext,
  session: LocalSession,
  request: { text: string; cid?: string; generation?: string },
  to: UserRef,
): Promise<{ outcome: DmAppendOutcome; id: string; to: UserRef; conversation: string }> {
  const conversation = conversationId(session.user.id, to.id);
  const id = ctx.nextMessageId();
  const outcome = await ctx.dms
    .append(
      {
        v: ENVELOPE_VERSION,
        type: 'dm',
        origin: ctx.nodeId,
        conversation,
        id,
        from: session.user,
        to,
        sid: session.sid,
        text: request.text,
        ts: Date.now(),
        ...(request.cid === undefined ? {} : { cid: request.cid }),
      },
      {
        limit: userRateLimit(ctx, session.user),
        ...(request.cid === undefined ? {} : { cid: request.cid }),
        ...(request.generation === undefined ? {} : { firstGeneration: request.generation }),
      },
    )
    .catch((error: unknown) =>
      rethrowWriteFailure(error, request.cid, ctx.logger, { event: 'dm', user: session.user }),
    );
  return { outcome, id, to, conversation };
}

/**
 * A page of the caller's conversation with `with`. Only conversations that include the caller's
 * own user id can be named: there is no way to ask for another pair's. Reading marks it read.
 * With `room` instead, a page of that room (see roomHistoryHandler).
 */
export const history: Handler<HistoryResult | RoomHistoryResult> = async (
  ctx,
  session,
  payload,
) => {
  const request = valid(parseHistory(payload));
  if (request.kind === 'room') return roomHistoryHandler(ctx, session, request);
  const other = await resolve(ctx, request.with);
  const conversation = conversationId(session.user.id, other.id);
  const limit = request.limit ?? DEFAULT_HISTORY_PAGE;
  const page = await ctx.dms.page(conversation, request.before ?? 0, limit);
  // A position from an earlier life of the conversation (Redis forgot it and it started over):
  // nothing in the window is before it, the archive has the rest.
  if (!(await inWindow(ctx, conversation, request))) page.messages = [];
  const newest = page.messages.at(-1)?.seq;
  if (newest !== undefined) await ctx.dms.mark(session.user.id, conversation, 'read', newest);
  const window = page.messages.map((m) => toDirectMessage(m));
  const result = { conversation, with: other, first: page.first, head: page.head };
  const archive = ctx.archive?.archive;
  if (archive === undefined) return { ...result, messages: window };
  const earlier = await earlierDmsHandler(
    ctx,
    archive,
    session,
    conversation,
    { ...request, limit },
    window,
    page.first,
  );
  return { ...result, ...earlier };
};

/**
 * Whether the message a page goes back from (`before`, `beforeTs`) is the window's own (the
 * conversation's current life in Redis), so the window's messages below it come before it.
 */
async function inWindow(
  ctx: GatewayContext,
  conversation: string,
  { before, beforeTs }: { before?: number; beforeTs?: number },
): Promise<boolean> {
  if (before === undefined || beforeTs === undefined) return true;
  const at = (await ctx.dms.page(conversation, before + 1, 1)).messages[0];
  return at?.seq === before && at.ts === beforeTs;
}

/** The caller's conversations, most recent first, with what they have not read. */
export const dms: Handler<DmsResult> = async (ctx, session, payload) => {
  valid(parseDms(payload));
  const states = await ctx.dms.conversations(session.user.id);
  const conversations: DmsResult['conversations'] = [];
  for (const c of states) {
    if (!c.last) continue;
    const other = c.last.from.id === session.user.id ? c.last.to : c.last.from;
    const unread = Math.max(0, c.head - Math.max(c.read, c.first - 1));
    conversations.push({
      conversation: c.conversation,
      with: other,
      seq: c.head,
      unread,
      ts: c.last.ts,
    });
  }
  return { conversations };
};
