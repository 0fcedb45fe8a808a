import type { DirectMessage } from '@chat/protocol';
import type { Bus, BusHandler } from './bus/bus';
import type { DmEnvelope, Envelope } from './bus/envelope';
import type { Topic } from './bus/topics';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Registry } from './registry';
import { RoomFeed, type ChatServer } from './room-feed';
import type { RoomSequencer } from './room-sequencer';

export { ioRoom, type ChatServer } from './room-feed';

export interface RelayDeps {
  /** See FeedDeps.batchWindowMs. */
  batchWindowMs: number;
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
  private readonly rooms = new Map<string, { feed: RoomFeed; ready: Promise<void> }>();
  private readonly users = new Map<number, { refs: number; ready: Promise<void> }>();

  constructor(private readonly deps: RelayDeps) {}

  /** Subscribes to the room if this is its first local member; resolves once live. */
  async retainRoom(room: string): Promise<RoomFeed> {
    let entry = this.rooms.get(room);
    if (!entry) {
      const feed = new RoomFeed(room, {
        batchWindowMs: this.deps.batchWindowMs,
        io: this.deps.io,
        registry: this.deps.registry,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        fetch: (after, limit) => this.deps.bus.range(room, after, limit),
      });
      const created = { feed, ready: this.open(room, feed.sequencer) };
      created.ready.catch(() => {
        if (this.rooms.get(room) === created) this.rooms.delete(room);
      });
      this.rooms.set(room, (entry = created));
    }
    const feed = entry.feed;
    feed.refs++;
    try {
      await entry.ready;
    } catch (error) {
      this.releaseRoom(room);
      throw error;
    }
    return feed;
  }

  releaseRoom(room: string): void {
    const feed = this.rooms.get(room)?.feed;
    if (!feed || --feed.refs > 0) return;
    feed.flush();
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
    return this.rooms.get(room)?.feed.sequencer.delivered ?? 0;
  }

  /** The room's feed on this node, while it has local members. */
  feed(room: string): RoomFeed | undefined {
    return this.rooms.get(room)?.feed;
  }

  // ---- BusHandler ----

  envelope(envelope: Envelope, topic: Topic): void {
    switch (envelope.type) {
      case 'message':
        this.feed(envelope.room)?.sequencer.offer(envelope);
        return;
      case 'joined': {
        const notice = { room: envelope.room, user: envelope.user };
        this.feed(envelope.room)?.notify(envelope.user.id, (to) => to.emit('joined', notice));
        return;
      }
      case 'left': {
        const notice = { room: envelope.room, user: envelope.user, reason: envelope.reason };
        this.feed(envelope.room)?.notify(envelope.user.id, (to) => to.emit('left', notice));
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
    for (const { feed } of this.rooms.values()) void feed.sequencer.repair();
    this.deps.onResumed();
  }

  // ---- delivery ----

  private async open(room: string, sequencer: RoomSequencer): Promise<void> {
    await this.deps.bus.subscribe({ kind: 'room', room });
    const { head } = await this.deps.bus.latest(room, 0);
    sequencer.start(head);
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
}
