import type {
  ChatMessage,
  ClientToServerEvents,
  DirectMessage,
  ServerToClientEvents,
} from '@chat/protocol';
import type { BroadcastOperator, Server, Socket } from 'socket.io';
import type { Bus, BusHandler } from './bus/bus';
import type { DmEnvelope, Envelope, MessageEnvelope } from './bus/envelope';
import type { Topic } from './bus/topics';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { LocalSession, PendingEvent, Registry } from './registry';
import { RoomSequencer } from './room-sequencer';

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents>;
type Emitter =
  | Socket<ClientToServerEvents, ServerToClientEvents>
  | BroadcastOperator<ServerToClientEvents, unknown>;

/** Socket.IO room holding the live (fully synced) local members of a chat room. */
export function ioRoom(room: string): string {
  return `room:${room}`;
}

interface RoomFeed {
  refs: number;
  sequencer: RoomSequencer;
  ready: Promise<void>;
  /** Members still receiving history: live events are queued for them. */
  syncing: Set<LocalSession>;
}

export interface RelayDeps {
  bus: Bus;
  io: ChatServer;
  registry: Registry;
  metrics: Metrics;
  nodeId: string;
  logger: Logger;
  onCanary(nonce: string): void;
  /** The bus is back (or up for the first time). */
  onResumed(): void;
}

/**
 * Everything this node receives from the bus goes through here to its local sockets: room
 * messages in seq order (via one RoomSequencer per room), notices, DMs. A node subscribes to a
 * room only while it has local members there, and to a user's DM topic only while that user
 * has a session here. Each envelope is encoded once per room by Socket.IO's broadcast.
 */
export class Relay implements BusHandler {
  private readonly rooms = new Map<string, RoomFeed>();
  private readonly users = new Map<number, { refs: number; ready: Promise<void> }>();

  constructor(private readonly deps: RelayDeps) {}

  /** Subscribes to the room if this is its first local member; resolves once live. */
  async retainRoom(room: string): Promise<RoomSequencer> {
    let feed = this.rooms.get(room);
    if (!feed) {
      const sequencer = new RoomSequencer({
        fetch: (after, limit) => this.deps.bus.range(room, after, limit),
        deliver: (message) => this.deliverMessage(message),
        lost: (from, to) => this.lost(room, from, to),
        failed: (error) =>
          this.deps.logger.warn({ room, err: String(error) }, 'room repair failed; will retry'),
        repaired: (count) => {
          this.deps.metrics.repairs.inc();
          this.deps.logger.info({ room, count }, 'recovered missed messages from the room log');
        },
      });
      const created: RoomFeed = {
        refs: 0,
        sequencer,
        syncing: new Set(),
        ready: this.open(room, sequencer),
      };
      created.ready.catch(() => {
        if (this.rooms.get(room) === created) this.rooms.delete(room);
      });
      this.rooms.set(room, (feed = created));
    }
    feed.refs++;
    try {
      await feed.ready;
    } catch (error) {
      this.releaseRoom(room);
      throw error;
    }
    return feed.sequencer;
  }

  releaseRoom(room: string): void {
    const feed = this.rooms.get(room);
    if (!feed || --feed.refs > 0) return;
    this.rooms.delete(room);
    this.deps.bus.unsubscribe({ kind: 'room', room }).catch(() => undefined);
  }

  async retainUser(userId: number): Promise<void> {
    let entry = this.users.get(userId);
    if (!entry) {
      const ready = this.deps.bus.subscribe({ kind: 'user', userId });
      const created = { refs: 0, ready };
      ready.catch(() => {
        if (this.users.get(userId) === created) this.users.delete(userId);
      });
      this.users.set(userId, (entry = created));
    }
    entry.refs++;
    try {
      await entry.ready;
    } catch (error) {
      this.releaseUser(userId);
      throw error;
    }
  }

  releaseUser(userId: number): void {
    const entry = this.users.get(userId);
    if (!entry || --entry.refs > 0) return;
    this.users.delete(userId);
    this.deps.bus.unsubscribe({ kind: 'user', userId }).catch(() => undefined);
  }

  /** Highest seq of the room delivered on this node (0 when not subscribed). */
  delivered(room: string): number {
    return this.rooms.get(room)?.sequencer.delivered ?? 0;
  }

  /** Live events of the room are queued for `session` until {@link endSync}. */
  beginSync(session: LocalSession, room: string): void {
    session.pending = [];
    this.rooms.get(room)?.syncing.add(session);
  }

  /** Sends what was queued during the sync (after `afterSeq`) and makes the session live. */
  endSync(session: LocalSession, room: string, afterSeq: number): void {
    this.rooms.get(room)?.syncing.delete(session);
    const pending = session.pending ?? [];
    session.pending = undefined;
    for (const event of pending) {
      if (event.kind === 'notice' || event.seq > afterSeq) event.emit(session);
    }
    void session.socket.join(ioRoom(room));
  }

  /** Forgets a session that left the room mid-sync. */
  abortSync(session: LocalSession, room: string): void {
    this.rooms.get(room)?.syncing.delete(session);
    session.pending = undefined;
  }

  // ---- BusHandler ----

  envelope(envelope: Envelope, topic: Topic): void {
    switch (envelope.type) {
      case 'message':
        this.rooms.get(envelope.room)?.sequencer.offer(envelope);
        return;
      case 'joined': {
        const notice = { room: envelope.room, user: envelope.user };
        this.notify(envelope.room, envelope.user.id, (to) => to.emit('joined', notice));
        return;
      }
      case 'left': {
        const notice = { room: envelope.room, user: envelope.user, reason: envelope.reason };
        this.notify(envelope.room, envelope.user.id, (to) => to.emit('left', notice));
        return;
      }
      case 'dm':
        this.deliverDm(envelope);
        return;
      case 'canary':
        if (topic.kind === 'node' && envelope.origin === this.deps.nodeId) {
          this.deps.onCanary(envelope.nonce);
        }
        return;
    }
  }

  down(reason: string): void {
    this.deps.logger.warn({ reason }, 'message bus down');
  }

  resumed(): void {
    this.deps.logger.info({ rooms: this.rooms.size }, 'message bus up; repairing room feeds');
    for (const feed of this.rooms.values()) void feed.sequencer.repair();
    this.deps.onResumed();
  }

  // ---- delivery ----

  private async open(room: string, sequencer: RoomSequencer): Promise<void> {
    await this.deps.bus.subscribe({ kind: 'room', room });
    const { head } = await this.deps.bus.latest(room, 0);
    sequencer.start(head);
  }

  private deliverMessage(envelope: MessageEnvelope): void {
    const message: ChatMessage = {
      id: envelope.id,
      room: envelope.room,
      seq: envelope.seq,
      from: envelope.from,
      text: envelope.text,
      ts: envelope.ts,
    };
    const own = [...this.deps.registry.ofSid(envelope.sid)].map((s) => s.socket.id);
    this.deps.io.to(ioRoom(envelope.room)).except(own).emit('message', message);
    const { metrics } = this.deps;
    const recipients = this.deps.registry.inRoom(envelope.room).size - own.length;
    if (recipients > 0) metrics.delivered.inc(recipients);
    metrics.relayLatency.observe(Math.max(0, Date.now() - envelope.ts) / 1000);
    this.queue(
      envelope.room,
      { kind: 'message', seq: envelope.seq, emit: (s) => s.socket.emit('message', message) },
      (s) => s.sid !== envelope.sid,
    );
  }

  private deliverDm(envelope: DmEnvelope): void {
    const dm: DirectMessage = {
      id: envelope.id,
      from: envelope.from,
      to: envelope.to,
      text: envelope.text,
      ts: envelope.ts,
    };
    for (const session of this.deps.registry.ofUser(envelope.to.id)) {
      if (session.sid !== envelope.sid) session.socket.emit('dm', dm);
    }
  }

  /** A presence notice goes to everyone in the room except the user's own sessions. */
  private notify(room: string, userId: number, emit: (to: Emitter) => void): void {
    const own = [...this.deps.registry.ofUser(userId)].map((s) => s.socket.id);
    emit(this.deps.io.to(ioRoom(room)).except(own));
    this.queue(room, { kind: 'notice', emit: (s) => emit(s.socket) }, (s) => s.user.id !== userId);
  }

  private lost(room: string, from: number, to: number): void {
    this.deps.logger.warn({ room, from, to }, 'messages lost beyond the history window');
    this.deps.metrics.lost.inc(to - from + 1);
    this.deps.io.to(ioRoom(room)).emit('gap', { room, from, to });
    this.queue(room, { kind: 'notice', emit: (s) => s.socket.emit('gap', { room, from, to }) });
  }

  private queue(
    room: string,
    event: PendingEvent,
    include: (session: LocalSession) => boolean = () => true,
  ): void {
    const syncing = this.rooms.get(room)?.syncing;
    if (!syncing) return;
    for (const session of syncing) if (include(session)) session.pending?.push(event);
  }
}
