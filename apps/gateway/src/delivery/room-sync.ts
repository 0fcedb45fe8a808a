import type { ChatMessage, JoinResult } from '@chat/protocol';
import {
  type GatewayContext,
  joinedEnvelope,
  leftTemplate,
  sessionRef,
  userLock,
} from '../context';
import { settleWindowMs } from '../cluster/node-leases';
import { ClientError } from '../errors';
import type { StoredRange } from '../broker/bus';
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
  epoch?: string,
): Promise<JoinResult> {
  return ctx.lock.run(userLock(session.user), async () => {
    if (session.room === room) {
      return withEpoch({ room, seq: ctx.relay.delivered(room) }, ctx.relay.epoch(room));
    }
    const refused = ctx.joins.take(session.user.id, session.socket, since, origin);
    if (refused) throw new ClientError(refused);
    const feed = await ctx.relay.retainRoom(room);
    // A plain join that memory cannot serve asks the log where it stands: asked now, in the
    // membership change's round trip. A probe older than beginSync is as good (see sync).
    const probe =
      since === undefined && !servedFromMemory(ctx, feed) ? ctx.bus.latest(room, 0) : undefined;
    probe?.catch(() => undefined);
    let members: number;
    try {
      ({ members } = await ctx.state.enterRoom(
        sessionRef(ctx, session),
        joinedEnvelope(ctx, room, session.user),
        leftTemplate(ctx.nodeId, session.user, 'moved', room),
      ));
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
      members > ctx.config.presenceQuietAbove,
      probe,
    );
    ctx.logger.debug({ user: session.user, room }, 'joined room');
    return withEpoch({ room, seq: synced.head }, synced.epoch);
  });
}

function withEpoch<T extends object>(value: T, epoch: string | undefined): T & { epoch?: string } {
  return epoch === undefined ? value : { ...value, epoch };
}

/** Whether the node's recent window holds a plain join's whole history of the room. */
function servedFromMemory(ctx: GatewayContext, feed: RoomFeed): boolean {
  const newest = feed.recent.newest;
  return (
    newest !== undefined && feed.recent.holds(Math.max(1, newest - ctx.config.historyOnJoin + 1))
  );
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
  quiet: boolean,
  asked?: Promise<StoredRange>,
): Promise<{ head: number; epoch: string | undefined }> {
  const room = feed.room;
  const { historyOnJoin } = ctx.config;
  // Everything this node delivered before beginSync is at or below this, so the history must
  // reach at least here; everything after it is queued for the session by the feed.
  let target = feed.sequencer.delivered;
  let cursor: number;
  let epoch = feed.epoch;
  let restarted = false;
  /** Whether the log (or memory) is read even when the probe shows nothing to replay. */
  let mustRead = true;
  const newest = feed.recent.newest;
  if (position !== undefined) {
    const placed = await place(ctx, feed, position);
    ({ restarted } = placed);
    epoch = placed.epoch ?? epoch;
    target = Math.max(target, placed.head);
    cursor = placed.from;
  } else if (newest !== undefined && servedFromMemory(ctx, feed)) {
    // Served from memory whole: in the epoch of the messages held.
    epoch = feed.recent.epoch ?? epoch;
    target = Math.max(target, newest);
    cursor = Math.max(0, newest - historyOnJoin);
  } else {
    // Asked before beginSync at most one round trip earlier: its head may be below what the
    // node delivered since, which `target` covers, and the first page read from the log brings
    // its own head and epoch, as a probe asked here may be overtaken by messages just the same.
    const probe = await (asked ?? ctx.bus.latest(room, 0));
    epoch = probe.epoch ?? epoch;
    target = Math.max(target, probe.head);
    cursor = Math.max(0, probe.first - 1, probe.head - historyOnJoin);
    // Nothing stored to replay (a new or quiet room): no page read. A message stored since the
    // probe is above `target`, so it reaches the session live, after `synced`.
    mustRead = false;
  }
  const done = () => ({ head: target, epoch });
  // A resume is told about every position in (since, head] it does not get: older than the
  // window, or a hole the broker left (Redis lost or rolled back data). A plain join is not.
  let lost = 0;
  let replayed = 0;
  for (let pages = 0; (pages === 0 && mustRead) || cursor < target; pages++) {
    if (pages > 0) await drained(session.socket, ctx.history.options.pageBytes);
    if (!session.socket.connected || session.room !== room) return done();
    const { pageMessages, pageBytes } = ctx.history.options;
    // Memory serves only positions of the epoch this sync reads (after Redis came back older,
    // the node may hold a newer epoch's messages at positions the old one gave to others).
    const held =
      feed.recent.epoch === epoch ? feed.recent.page(cursor, pageMessages, pageBytes) : undefined;
    const page = held ?? (await ctx.history.page(room, cursor));
    if (pages === 0) target = Math.max(target, page.head);
    epoch = page.epoch ?? epoch;
    await ctx.history.turn();
    const fresh = page.messages.filter((m) => m.seq > cursor && m.seq <= target);
    if (!session.socket.connected || session.room !== room) return done();
    if (position !== undefined) {
      let at = cursor;
      for (const message of fresh) {
        lost += message.seq - at - 1;
        at = message.seq;
      }
    }
    const history = fresh
      .filter((m) => m.sid !== session.sid)
      .map((m): ChatMessage => ({ ...toChatMessage(m), history: true }));
    emitMessages(session, history);
    replayed += history.length;
    const last = fresh.at(-1)?.seq;
    if (last === undefined) break;
    cursor = last;
  }
  if (position !== undefined && cursor < target) lost += target - cursor;
  await feed.sequencer.reach(target, 2 * ctx.config.commandTimeoutMs);
  // From here on everything is synchronous: no live event can slip between the steps.
  if (session.room !== room) return done();
  if (feed.told === undefined) feed.told = epoch ?? null;
  session.socket.emit('synced', {
    room,
    seq: target,
    replayed,
    lost,
    ...(epoch === undefined ? {} : { epoch }),
    ...(restarted ? { restarted: true } : {}),
    ...(quiet ? { quiet: true } : {}),
  });
  feed.endSync(session, target, epoch);
  return done();
}

/**
 * Where a resume starts in the log. A `since` of another epoch, or beyond the head, cannot be
 * placed in this log: the replay is the whole log and `restarted` says so. One exception: a
 * `since` of this very epoch, at most a history window beyond the head, names positions the
 * client was given before the broker lost them (nobody online to restore them). When the log
 * still has that epoch, that proves a loss nobody found: the node records it (a new generation
 * of the broker's data, see ClusterState lossWitnessed), so the room's next append starts a new
 * epoch and those positions are never given to other messages (a log without an epoch gets a
 * fresh one at its next append anyway). The counter is raised to `since` so seqs keep going up;
 * the resume is exact. Further ahead is not trusted (a client could burn seqs). A node that has itself
 * delivered past `since` in the client's epoch (or for a client that names none, as v1 clients)
 * knows the position is good without asking; otherwise the log itself is asked, never a shared
 * or in-memory page, which may predate `since`.
 */
async function place(
  ctx: GatewayContext,
  feed: RoomFeed,
  { since, epoch }: Position,
): Promise<{ head: number; epoch: string | undefined; from: number; restarted: boolean }> {
  const delivered = feed.sequencer.delivered;
  if ((epoch === undefined || epoch === feed.epoch) && since <= delivered) {
    return { head: delivered, epoch: feed.epoch, from: since, restarted: false };
  }
  const probe = await ctx.bus.latest(feed.room, 0);
  const sameEpoch = epoch === undefined || probe.epoch === undefined || epoch === probe.epoch;
  if (sameEpoch && probe.head >= since) {
    return { head: probe.head, epoch: probe.epoch, from: since, restarted: false };
  }
  if (sameEpoch && epoch !== undefined && since - probe.head <= ctx.config.historyLimit) {
    // A log without an epoch (expired, or lost whole) takes a fresh one at its next append
    // anyway; one of the client's epoch behind its `since` proves a loss nobody found.
    if (probe.epoch !== undefined) await witnessLoss(ctx, feed.room, since - probe.head);
    const head = await ctx.bus.raise(feed.room, since);
    return { head, epoch, from: since, restarted: false };
  }
  return { head: probe.head, epoch: probe.epoch, from: 0, restarted: true };
}

/** When this node last recorded a loss a client witnessed (see witnessLoss). */
const lastWitness = new WeakMap<GatewayContext, number>();

/**
 * A client's `since` shows the broker lost `missing` positions of `room`: records the loss (a
 * new data generation: every room's next append starts a new epoch), at most once per settle
 * window per node (a generation started within it already covers every log not appended since,
 * and a client cannot make a node start generations back to back).
 */
async function witnessLoss(ctx: GatewayContext, room: string, missing: number): Promise<void> {
  const settleMs = settleWindowMs(ctx.config.nodeTtlMs);
  const last = lastWitness.get(ctx);
  if (last !== undefined && Date.now() - last < settleMs) return;
  lastWitness.set(ctx, Date.now());
  const generation = await ctx.state.lossWitnessed(ctx.nodeId, settleMs);
  ctx.logger.warn(
    { room, missing, generation },
    'a resume named positions the broker lost; started a new data generation',
  );
}
