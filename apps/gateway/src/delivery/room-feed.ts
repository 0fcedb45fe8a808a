import type { ChatMessage, Synced } from '@chat/protocol';
import type { StoredRange } from '../broker/bus';
import type { MessageEnvelope } from '../broker/envelope';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { LocalSession, Registry } from '../sessions/registry';
import type { ChatServer, Emitter } from '../sessions/socket';
import { BatchWindow } from './batch-window';
import type { LoadSignal } from './node-load';
import {
  PresenceThrottle,
  type PresenceNotice,
  type PresenceThrottleOptions,
} from './presence-throttle';
import { RecentWindow, type RecentWindowOptions } from './recent-window';
import { RoomSequencer } from './room-sequencer';

/** Socket.IO room of the live local members that take one `message` event per message. */
export function ioRoom(room: string): string {
  return `room:${room}`;
}

/** Socket.IO room of the live local members that take `messages` batches (`auth.batch`). */
export function ioBatchRoom(room: string): string {
  return `batch:${room}`;
}

/** Largest `messages` batch sent in one packet. @default 256 */
const MAX_BATCH = 256;

export interface FeedDeps {
  /** See {@link BatchWindow}. */
  batchWindowMs: number;
  /** The node's load, which opens and closes the batch window. */
  load: LoadSignal;
  /** See {@link PresenceThrottle}. */
  presence: PresenceThrottleOptions;
  /** See {@link RecentWindow}. */
  recent: RecentWindowOptions;
  io: ChatServer;
  registry: Registry;
  metrics: Metrics;
  logger: Logger;
  fetch(after: number, limit: number): Promise<StoredRange>;
  /** See Bus.raise. */
  raise(atLeast: number): Promise<number>;
  /** Every stored message, once and in seq order, with the log's epoch when known (the archive). */
  stored?(envelope: MessageEnvelope, epoch: string | undefined): void;
}

interface Outgoing {
  message: ChatMessage;
  sid: string;
}

/** A live event held for a member still receiving history. */
type PendingEvent =
  | { kind: 'message'; message: ChatMessage }
  | { kind: 'notice'; emit: (to: Emitter) => void }
  | { kind: 'renewed'; synced: Synced };

export function toChatMessage(envelope: MessageEnvelope): ChatMessage {
  const { id, room, seq, from, text, ts } = envelope;
  return { id, room, seq, from, text, ts };
}

/** Sends messages to one session in its format: one event each, or batches. */
export function emitMessages(session: LocalSession, messages: ChatMessage[]): void {
  if (!session.batch) {
    for (const message of messages) session.socket.emit('message', message);
    return;
  }
  for (let i = 0; i < messages.length; i += MAX_BATCH) {
    session.socket.emit('messages', messages.slice(i, i + MAX_BATCH));
  }
}

/**
 * One chat room on this node: the sequencer that orders its messages, the delivery to local
 * members, and the members still receiving history (with the live events held for each).
 *
 * Delivery is encoded once per room, not per socket: per-message members get each message as
 * it comes (one Socket.IO broadcast); batch members get everything that arrived in one turn of
 * the event loop as one `messages` packet, so under load a socket gets one frame for many
 * messages. A sender's own sockets are left out of the shared packet and get theirs without
 * their own messages. Notices flush the batch first, so every member sees one order.
 */
export class RoomFeed {
  readonly sequencer: RoomSequencer;
  /** The newest messages delivered here, for joins that need only recent history. */
  readonly recent: RecentWindow;
  /** The room log's epoch as last read from the broker. */
  epoch: string | undefined;
  /**
   * The epoch of the messages this node's members were last given (by a `synced`, or by the
   * last message delivered): a message of another epoch (the log started a new one after the
   * broker lost data) is preceded by a `synced` with `renewed` (see {@link deliver}). `null`:
   * they were told the log has no epoch (new, or lost whole): its first one is announced too, or
   * a member would hold positions of an epoch it cannot name, and a resume with them could be
   * read in a later epoch that gives the same positions again.
   */
  told: string | null | undefined;
  /** Members receiving history, and the live events held for each until its history is sent. */
  private readonly syncing = new Map<LocalSession, PendingEvent[]>();
  private outbox: Outgoing[] = [];
  private flushScheduled = false;
  private readonly window: BatchWindow;
  private readonly throttle: PresenceThrottle;
  /** {@link ioRoom} and {@link ioBatchRoom} of this room, named once. */
  private readonly eventName: string;
  private readonly batchName: string;

  constructor(
    readonly room: string,
    private readonly deps: FeedDeps,
  ) {
    this.eventName = ioRoom(room);
    this.batchName = ioBatchRoom(room);
    this.window = new BatchWindow(deps.batchWindowMs, deps.load);
    this.recent = new RecentWindow(deps.recent);
    this.throttle = new PresenceThrottle(deps.presence, (userId, emit) =>
      this.notify(userId, emit),
    );
    this.sequencer = new RoomSequencer({
      fetch: (after, limit) => this.fetch(after, limit),
      raise: (atLeast) => this.raise(atLeast),
      deliver: (message) => this.deliver(message),
      lost: (from, to) => this.lost(from, to),
      failed: (error) =>
        deps.logger.warn({ room, err: String(error) }, 'room repair failed; will retry'),
      repaired: (count) => {
        deps.metrics.repairs.inc();
        deps.logger.info({ room, count }, 'recovered missed messages from the room log');
      },
    });
  }

  /** Reads the room's log, remembering its epoch. */
  async fetch(after: number, limit: number): Promise<StoredRange> {
    const range = await this.deps.fetch(after, limit);
    this.epoch = range.epoch ?? this.epoch;
    return range;
  }

  /**
   * Records the log's epoch when this node learns it another way (a send's outcome). A feed
   * that opened on a room without a log reads it once after its first message, so that every
   * node knows the epoch it must give back after a broker reset.
   */
  learnEpoch(epoch: string | undefined): void {
    this.epoch = epoch ?? this.epoch;
  }

  private learning = false;

  private learnEpochSoon(): void {
    if (this.epoch !== undefined || this.learning) return;
    this.learning = true;
    this.fetch(0, 0)
      .catch(() => undefined)
      .finally(() => (this.learning = false));
  }

  private async raise(atLeast: number): Promise<number> {
    const head = await this.deps.raise(atLeast);
    this.deps.metrics.repairs.inc();
    this.deps.logger.warn(
      { room: this.room, delivered: atLeast },
      'room log was behind what this node delivered (broker lost or rolled back data); raised it',
    );
    return head;
  }

  /** Live events are queued for `session` until {@link endSync}. */
  beginSync(session: LocalSession): void {
    this.syncing.set(session, []);
  }

  /**
   * Sends what was queued during the sync (messages after `afterSeq`, a new epoch unless the
   * session was synced in it: `epoch`) and makes it live.
   */
  endSync(session: LocalSession, afterSeq: number, epoch?: string): void {
    // Messages still in the outbox are in `pending` too: send the outbox to the others first.
    this.flush();
    const pending = this.syncing.get(session) ?? [];
    this.syncing.delete(session);
    let run: ChatMessage[] = [];
    for (const event of pending) {
      if (event.kind === 'message') {
        if (event.message.seq > afterSeq) run.push(event.message);
        continue;
      }
      emitMessages(session, run);
      run = [];
      if (event.kind === 'notice') event.emit(session.socket);
      else if (event.synced.epoch !== epoch) session.socket.emit('synced', event.synced);
    }
    emitMessages(session, run);
    void session.socket.join(session.batch ? this.batchName : this.eventName);
  }

  /** Forgets a session that left the room mid-sync. */
  abortSync(session: LocalSession): void {
    this.syncing.delete(session);
  }

  /** A `joined`/`left` notice, shown unless the user is flapping (see PresenceThrottle). */
  presence(userId: number, notice: PresenceNotice): void {
    this.throttle.offer(userId, notice);
  }

  /** The room has no local members left: sends what is batched, stops held notices. */
  close(): void {
    this.flush();
    this.throttle.close();
    this.recent.clear();
  }

  /** A notice for everyone in the room except the user's own sessions, shown now. */
  notify(userId: number, emit: (to: Emitter) => void): void {
    this.flush();
    const own = [...this.deps.registry.ofUser(userId)].map((s) => s.socket.id);
    emit(this.deps.io.to([this.eventName, this.batchName]).except(own));
    for (const [session, pending] of this.syncing) {
      if (session.user.id !== userId) pending.push({ kind: 'notice', emit });
    }
  }

  /** On a busy node a batch waits for its window (see {@link BatchWindow}). */
  private scheduleFlush(wait: 'end-of-turn' | number): void {
    this.flushScheduled = true;
    if (wait === 'end-of-turn') setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), wait);
  }

  /** Sends the batch now (normally when the window says so). */
  flush(): void {
    this.flushScheduled = false;
    const outbox = this.outbox;
    if (outbox.length === 0) return;
    this.outbox = [];
    this.window.flushed(performance.now());
    const own = this.ownBatchMembers(outbox);
    const messages = outbox.map((o) => o.message);
    const room = this.deps.io.to(this.batchName);
    const others = own.length === 0 ? room : room.except(own.map((s) => s.socket.id));
    if (messages.length <= MAX_BATCH) others.emit('messages', messages);
    else {
      for (let i = 0; i < messages.length; i += MAX_BATCH) {
        others.emit('messages', messages.slice(i, i + MAX_BATCH));
      }
    }
    for (const session of own) {
      emitMessages(
        session,
        outbox.filter((o) => o.sid !== session.sid).map((o) => o.message),
      );
    }
  }

  /**
   * The live batch members here whose session sent something in `outbox`: they get the batch
   * without their own messages. Usually none (senders are spread over nodes) or one.
   */
  private ownBatchMembers(outbox: readonly Outgoing[]): LocalSession[] {
    const own: LocalSession[] = [];
    let previous: string | undefined;
    for (const { sid } of outbox) {
      // A run of messages from one session is looked up once; a session seen earlier is
      // skipped below by the `includes` (batches are short).
      if (sid === previous) continue;
      previous = sid;
      for (const session of this.deps.registry.ofSid(sid)) {
        if (
          session.batch &&
          session.room === this.room &&
          !this.syncing.has(session) &&
          !own.includes(session)
        ) {
          own.push(session);
        }
      }
    }
    return own;
  }

  /** Live local members in one of the room's Socket.IO rooms (a map lookup, no allocation). */
  private members(ioName: string): number {
    return this.deps.io.sockets.adapter.rooms.get(ioName)?.size ?? 0;
  }

  private deliver(envelope: MessageEnvelope): void {
    const { io, registry, metrics } = this.deps;
    if (envelope.epoch !== undefined) this.renew(envelope.epoch, envelope.seq - 1);
    this.learnEpochSoon();
    this.deps.stored?.(envelope, this.epoch);
    const message = toChatMessage(envelope);
    this.recent.add(envelope);
    const own = registry.ofSid(envelope.sid);
    if (this.members(this.eventName) > 0) {
      const room = io.to(this.eventName);
      if (own.size === 0) room.emit('message', message);
      else room.except([...own].map((s) => s.socket.id)).emit('message', message);
    }
    if (this.members(this.batchName) > 0) {
      const plan = this.window.arrived(performance.now());
      this.outbox.push({ message, sid: envelope.sid });
      // On an idle node a message goes out at once (a batch of one); on a busy one at the window.
      if (!this.flushScheduled) {
        if (plan === 'now') this.flush();
        else this.scheduleFlush(plan);
      }
    }
    for (const [session, pending] of this.syncing) {
      if (session.sid !== envelope.sid) pending.push({ kind: 'message', message });
    }
    const recipients = registry.inRoom(this.room).size - own.size;
    if (recipients > 0) metrics.delivered.inc(recipients);
    metrics.relayLatency.observe(Math.max(0, Date.now() - envelope.ts) / 1000);
  }

  /**
   * The members were told `told`; a message of `epoch` comes: when they differ (the log started a
   * new epoch after the broker lost data), every member is told first, so the message's position
   * is read in its epoch (a `synced` with `renewed`, resume bookkeeping from `before`).
   */
  private renew(epoch: string, before: number): void {
    const told = this.told;
    this.told = epoch;
    this.epoch = epoch;
    if (told === epoch) return;
    const synced: Synced = {
      room: this.room,
      seq: before,
      replayed: 0,
      lost: 0,
      epoch,
      renewed: true,
    };
    if (told === undefined) {
      // Nobody here was told an epoch yet; but a join under way may have read the log before
      // this message renewed it (the soak: a first member synced in the old epoch, then given
      // this message as if of it). Its sync says which epoch it read; endSync tells it of this
      // one only if that differs.
      for (const pending of this.syncing.values()) pending.push({ kind: 'renewed', synced });
      return;
    }
    if (told !== null) {
      // Joins must not be served the old epoch's messages as the new one's.
      this.recent.clear();
      this.deps.logger.warn(
        { room: this.room, from: told, to: epoch, seq: before },
        'room log started a new epoch (broker lost or rolled back data); told its members',
      );
    }
    this.flush();
    this.deps.io.to([this.eventName, this.batchName]).emit('synced', synced);
    for (const pending of this.syncing.values()) pending.push({ kind: 'renewed', synced });
  }

  private lost(from: number, to: number): void {
    this.deps.logger.warn(
      { room: this.room, from, to },
      'messages lost (beyond the history window, or lost by the broker)',
    );
    this.deps.metrics.lost.inc(to - from + 1);
    this.recent.clear();
    const gap = { room: this.room, from, to };
    this.flush();
    this.deps.io.to([this.eventName, this.batchName]).emit('gap', gap);
    for (const pending of this.syncing.values()) {
      pending.push({ kind: 'notice', emit: (to) => to.emit('gap', gap) });
    }
  }
}
