import type { ChatMessage, JoinResult } from '@chat/protocol';
import type { StoredRange } from '../broker/bus';
import {
  type GatewayContext,
  joinedEnvelope,
  leftTemplate,
  sessionRef,
  userLock,
} from '../context';
import type { LocalSession } from '../sessions/registry';
import { emitMessages, ioBatchRoom, ioRoom, toChatMessage, type RoomFeed } from './room-feed';

/** Upper bound on messages replayed to one client in one join (guards a huge `since` gap). */
const MAX_REPLAY_BATCHES = 10;

/**
 * Moves a session into a room and brings it up to date: recent history (or, with `since`,
 * exactly the messages after `since` that it did not send itself), then `synced`, then live.
 *
 * No gap, no duplicate: the node subscribes first, the session queues live events while the
 * history is read, the room's sequencer is allowed to catch up to the history's head, and then,
 * in one synchronous step, the history, the queued events after the head, and the switch to
 * live delivery happen.
 */
export async function joinRoom(
  ctx: GatewayContext,
  session: LocalSession,
  room: string,
  since: number | undefined,
): Promise<JoinResult> {
  return ctx.lock.run(userLock(session.user), async () => {
    if (session.room === room) {
      return { room, seq: ctx.relay.delivered(room) };
    }
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
  let range =
    since === undefined
      ? await ctx.bus.latest(room, ctx.config.historyOnJoin)
      : await replayRange(ctx, room, since);
  // A head below `since`: the room's log expired (ROOM_TTL_S) or Redis lost it, and seqs started
  // over. Everything in the new log is news to the client; what it missed of the old log is
  // unknowable, and `restarted` says so rather than a count.
  const restarted = since !== undefined && range.head < since;
  if (restarted) range = await replayRange(ctx, room, 0);
  await feed.sequencer.reach(range.head, 2 * ctx.config.commandTimeoutMs);
  // From here on everything is synchronous: no live event can slip between the steps.
  if (session.room !== room) return range.head;
  const from = restarted ? 0 : since;
  const lost =
    from !== undefined && from < range.head
      ? Math.max(0, Math.min(range.first, range.head + 1) - from - 1)
      : 0;
  const history = range.messages
    .filter((m) => m.sid !== session.sid)
    .map((m): ChatMessage => ({ ...toChatMessage(m), history: true }));
  emitMessages(session, history);
  session.socket.emit('synced', {
    room,
    seq: range.head,
    replayed: history.length,
    lost,
    ...(restarted ? { restarted: true } : {}),
  });
  feed.endSync(session, range.head);
  return range.head;
}

/** Everything stored after `since`, in as many reads as it takes to reach the head. */
async function replayRange(ctx: GatewayContext, room: string, since: number): Promise<StoredRange> {
  const first = await ctx.bus.range(room, since, ctx.config.historyLimit);
  const messages = [...first.messages];
  let head = first.head;
  for (let batch = 1; batch < MAX_REPLAY_BATCHES; batch++) {
    const last = messages.at(-1)?.seq ?? since;
    if (last >= head) break;
    const next = await ctx.bus.range(room, last, ctx.config.historyLimit);
    messages.push(...next.messages);
    head = next.head;
    if (next.messages.length === 0) break;
  }
  return { messages, first: first.first, head: Math.max(head, messages.at(-1)?.seq ?? 0) };
}
