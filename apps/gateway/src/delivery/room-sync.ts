import type { ChatMessage, JoinResult } from '@chat/protocol';
import {
  type GatewayContext,
  joinedEnvelope,
  leftTemplate,
  sessionRef,
  userLock,
} from '../context';
import { ClientError } from '../errors';
import type { LocalSession } from '../sessions/registry';
import { drained } from './flow-control';
import { emitMessages, ioBatchRoom, ioRoom, toChatMessage, type RoomFeed } from './room-feed';

/**
 * Moves a session into a room and brings it up to date: recent history (or, with `since`,
 * exactly the messages after `since` that it did not send itself), then `synced`, then live.
 *
 * No gap, no duplicate: the node subscribes first, the session queues live events while the
 * history is read and sent up to a target head, the room's sequencer is allowed to catch up to
 * that head, and then, in one synchronous step, `synced`, the queued events after the head, and
 * the switch to live delivery happen.
 *
 * The history goes out in bounded pages (see HistoryReader), the next one only once the
 * client has taken the previous one (see `drained`), so no join holds Redis, or this node's
 * memory, for long however much it asks for.
 */
export async function joinRoom(
  ctx: GatewayContext,
  session: LocalSession,
  room: string,
  since: number | undefined,
  origin: 'request' | 'handshake' = 'request',
): Promise<JoinResult> {
  return ctx.lock.run(userLock(session.user), async () => {
    if (session.room === room) {
      return { room, seq: ctx.relay.delivered(room) };
    }
    const refused = ctx.joins.take(session.user.id, session.socket, since, origin);
    if (refused) throw new ClientError(refused);
    const feed = await ctx.relay.retainRoom(room);
    try {
      await ctx.state.enterRoom(
        sessionRef(ctx, session),
        joinedEnvelope(ctx, room, session.user),
        leftTemplate(ctx.nodeId, session.user, 'moved'),
      );
    } catch (error) {
      ctx.relay.releaseRoom(room);
      throw error;
    }
    leaveLocally(ctx, session);
    ctx.registry.enter(session, room);
    feed.beginSync(session);
    const seq = await sync(ctx, session, feed, since);
    ctx.logger.debug({ user: session.user, room }, 'joined room');
    return { room, seq };
  });
}

/** Takes the session out of its room on this node (its presence is the cluster state's job). */
export function leaveLocally(ctx: GatewayContext, session: LocalSession): void {
  const room = session.room;
  if (room === undefined) return;
  ctx.relay.feed(room)?.abortSync(session);
  ctx.registry.exit(session);
  void session.socket.leave(ioRoom(room));
  void session.socket.leave(ioBatchRoom(room));
  ctx.relay.releaseRoom(room);
}

async function sync(
  ctx: GatewayContext,
  session: LocalSession,
  feed: RoomFeed,
  since: number | undefined,
): Promise<number> {
  const room = feed.room;
  // Everything this node delivered before beginSync is at or below this, so the history must
  // reach at least here; everything after it is queued for the session by the feed.
  let target = feed.sequencer.delivered;
  let cursor = since ?? 0;
  const { historyOnJoin } = ctx.config;
  const newest = feed.recent.newest;
  if (
    since === undefined &&
    newest !== undefined &&
    feed.recent.holds(Math.max(1, newest - historyOnJoin + 1))
  ) {
    target = Math.max(target, newest);
    cursor = Math.max(0, newest - historyOnJoin);
  } else if (since === undefined) {
    const probe = await ctx.bus.latest(room, 0);
    target = Math.max(target, probe.head);
    cursor = Math.max(0, probe.first - 1, probe.head - historyOnJoin);
  }
  let lost = 0;
  let replayed = 0;
  let restarted = false;
  for (let pages = 0; pages === 0 || cursor < target; pages++) {
    if (pages > 0) await drained(session.socket, ctx.history.options.pageBytes);
    if (!session.socket.connected || session.room !== room) return target;
    const { pageMessages, pageBytes } = ctx.history.options;
    const page =
      feed.recent.page(cursor, pageMessages, pageBytes) ?? (await ctx.history.page(room, cursor));
    if (pages === 0) target = Math.max(target, page.head);
    if (pages === 0 && since !== undefined && page.head < since) {
      // A shared or in-memory page may predate `since`: only the log itself can say.
      const { head } = await ctx.bus.latest(room, 0);
      target = Math.max(target, head);
      if (head < since) {
        // A head below `since`: the room's log expired (ROOM_TTL_S) or Redis lost it, and seqs
        // started over. Everything in the new log is news to the client; what it missed of
        // the old log is unknowable, and `restarted` says so rather than a count.
        restarted = true;
        target = head;
        cursor = 0;
        continue;
      }
    }
    if (since !== undefined && page.first > cursor + 1 && cursor < target) {
      // Older than the window: counted, never silently skipped.
      const skipTo = Math.min(page.first - 1, target);
      lost += skipTo - cursor;
      cursor = skipTo;
    }
    await ctx.history.turn();
    const fresh = page.messages.filter((m) => m.seq > cursor && m.seq <= target);
    if (!session.socket.connected || session.room !== room) return target;
    const history = fresh
      .filter((m) => m.sid !== session.sid)
      .map((m): ChatMessage => ({ ...toChatMessage(m), history: true }));
    emitMessages(session, history);
    replayed += history.length;
    const last = fresh.at(-1)?.seq;
    if (last === undefined) break;
    cursor = last;
  }
  await feed.sequencer.reach(target, 2 * ctx.config.commandTimeoutMs);
  // From here on everything is synchronous: no live event can slip between the steps.
  if (session.room !== room) return target;
  session.socket.emit('synced', {
    room,
    seq: target,
    replayed,
    lost,
    ...(restarted ? { restarted: true } : {}),
  });
  feed.endSync(session, target);
  return target;
}
