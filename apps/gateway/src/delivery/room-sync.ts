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
  epoch?: string,
): Promise<JoinResult> {
  return ctx.lock.run(userLock(session.user), async () => {
    if (session.room === room) {
      return withEpoch({ room, seq: ctx.relay.delivered(room) }, ctx.relay.epoch(room));
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
    const synced = await sync(
      ctx,
      session,
      feed,
      since === undefined ? undefined : { since, epoch },
    );
    ctx.logger.debug({ user: session.user, room }, 'joined room');
    return withEpoch({ room, seq: synced.head }, synced.epoch);
  });
}

function withEpoch<T extends object>(value: T, epoch: string | undefined): T & { epoch?: string } {
  return epoch === undefined ? value : { ...value, epoch };
}

/** Where a client says it is in a room's log: `since` in `epoch` (unknown: the current one). */
interface Position {
  since: number;
  epoch: string | undefined;
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
  position: Position | undefined,
): Promise<StoredRange> {
  const room = feed.room;
  const { range, from, restarted } =
    position === undefined
      ? { range: await ctx.bus.latest(room, ctx.config.historyOnJoin), restarted: false }
      : await place(ctx, room, position);
  await feed.sequencer.reach(range.head, 2 * ctx.config.commandTimeoutMs);
  // From here on everything is synchronous: no live event can slip between the steps.
  if (session.room !== room) return range;
  // Every position in (from, head] that the log does not hold is lost to this client: older
  // than the window, or a hole the broker left (Redis lost or rolled back data).
  const held = range.messages.filter((m) => from !== undefined && m.seq > from).length;
  const lost = from !== undefined && from < range.head ? Math.max(0, range.head - from - held) : 0;
  const history = range.messages
    .filter((m) => m.sid !== session.sid)
    .map((m): ChatMessage => ({ ...toChatMessage(m), history: true }));
  emitMessages(session, history);
  session.socket.emit('synced', {
    room,
    seq: range.head,
    replayed: history.length,
    lost,
    ...(range.epoch === undefined ? {} : { epoch: range.epoch }),
    ...(restarted ? { restarted: true } : {}),
  });
  feed.endSync(session, range.head);
  return range;
}

/**
 * The replay for a resume. A `since` of another epoch, or beyond the head, cannot be placed in
 * this log: the replay is the whole log and `restarted` says so. One exception: a `since` of
 * this very epoch, at most a history window beyond the head, names positions the client was
 * given before the broker lost them (nobody online to restore them): the counter is raised to
 * it, so they are never given to other messages, and the resume is exact. Further ahead is not
 * trusted (a client could burn seqs).
 */
async function place(
  ctx: GatewayContext,
  room: string,
  { since, epoch }: Position,
): Promise<{ range: StoredRange; from: number; restarted: boolean }> {
  const range = await replayRange(ctx, room, since);
  const sameEpoch = epoch === undefined || range.epoch === undefined || epoch === range.epoch;
  if (sameEpoch && range.head >= since) return { range, from: since, restarted: false };
  if (sameEpoch && epoch !== undefined && since - range.head <= ctx.config.historyLimit) {
    await ctx.bus.raise(room, since, epoch);
    return { range: await replayRange(ctx, room, since), from: since, restarted: false };
  }
  return { range: await replayRange(ctx, room, 0), from: 0, restarted: true };
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
  return {
    messages,
    first: first.first,
    head: Math.max(head, messages.at(-1)?.seq ?? 0),
    ...(first.epoch === undefined ? {} : { epoch: first.epoch }),
  };
}
