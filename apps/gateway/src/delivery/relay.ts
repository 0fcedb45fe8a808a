import type { Bus, BusHandler } from '../broker/bus';
import type { DmEnvelope, Envelope, MessageEnvelope } from '../broker/envelope';
import type { DmInbox } from './dm-inbox';
import type { Topic } from '../broker/topics';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Registry } from '../sessions/registry';
import type { ChatServer } from '../sessions/socket';
import type { PresenceThrottleOptions } from './presence-throttle';
import type { RecentWindowOptions } from './recent-window';
import { NodeLoad } from './node-load';
import { RoomFeed } from './room-feed';
import { RefCounted } from './ref-counted';

export interface RelayDeps {
  /** See FeedDeps.batchWindowMs. */
  batchWindowMs: number;
  /** See FeedDeps.presence. */
  presence: PresenceThrottleOptions;
  /** See FeedDeps.recent. */
  recent: RecentWindowOptions;
  /** Stored bytes per log read when repairing a room (see Bus.range). */
  pageBytes: number;
  bus: Bus;
  /** Where DMs go (stored DMs arrive on both participants' user topics). */
  inbox: DmInbox;
  io: ChatServer;
  registry: Registry;
  metrics: Metrics;
  nodeId: string;
  logger: Logger;
  onCanary(nonce: string): void;
  /** The bus is back (or up for the first time). */
  onResumed(): void;
  /** See FeedDeps.stored: the archive's feed, when there is an archive. */
  stored?(envelope: MessageEnvelope, epoch: string | undefined): void;
  /** A stored DM, once per node: the archive's feed of private messages. */
  storedDm?(envelope: DmEnvelope): void;
}

/**
 * Everything this node receives from the bus goes through here to its local sockets: room
 * messages in seq order (via one RoomSequencer per room), notices, DMs. A node subscribes to a
 * room only while it has local members there, and to a user's DM topic only while that user
 * has a session here. Each envelope is encoded once per room by Socket.IO's broadcast.
 */
export class Relay implements BusHandler {
  private readonly rooms: RefCounted<string, RoomFeed>;
  private readonly users: RefCounted<number, number>;
  /** The node's load, shared by every room's batch window. */
  private readonly load = new NodeLoad();

  constructor(private readonly deps: RelayDeps) {
    const { bus } = deps;
    this.rooms = new RefCounted(
      (room) => {
        const feed = new RoomFeed(room, {
          batchWindowMs: deps.batchWindowMs,
          load: this.load,
          presence: deps.presence,
          recent: deps.recent,
          io: deps.io,
          registry: deps.registry,
          metrics: deps.metrics,
          logger: deps.logger,
          fetch: (after, limit) => bus.range(room, after, limit, deps.pageBytes),
          raise: (atLeast) => bus.raise(room, atLeast),
          ...(deps.stored === undefined ? {} : { stored: deps.stored }),
        });
        return { value: feed, ready: this.open(room, feed) };
      },
      (room, feed) => {
        feed.close();
        bus.unsubscribe({ kind: 'room', room }).catch(() => undefined);
      },
    );
    this.users = new RefCounted(
      (userId) => ({ value: userId, ready: bus.subscribe({ kind: 'user', userId }) }),
      (userId) => bus.unsubscribe({ kind: 'user', userId }).catch(() => undefined),
    );
  }

  /** Subscribes to the room if this is its first local member; resolves once live. */
  retainRoom(room: string): Promise<RoomFeed> {
    return this.rooms.retain(room);
  }

  releaseRoom(room: string): void {
    this.rooms.release(room);
  }

  /** Subscribes to the user's DM topic if this is their first session here. */
  async retainUser(userId: number): Promise<void> {
    await this.users.retain(userId);
  }

  releaseUser(userId: number): void {
    this.users.release(userId);
  }

  /** Highest seq of the room delivered on this node (0 when not subscribed). */
  delivered(room: string): number {
    return this.rooms.get(room)?.sequencer.delivered ?? 0;
  }

  /** Epoch of the room's log as this node knows it (undefined when not subscribed). */
  epoch(room: string): string | undefined {
    return this.rooms.get(room)?.epoch;
  }

  /** The room's feed on this node, while it has local members. */
  feed(room: string): RoomFeed | undefined {
    return this.rooms.get(room);
  }

  /** Stops every room's timers (the node is closing). */
  close(): void {
    for (const feed of this.rooms.values()) feed.close();
  }

  // ---- BusHandler ----

  envelope(envelope: Envelope, topic: Topic): void {
    switch (envelope.type) {
      case 'message':
        this.feed(envelope.room)?.sequencer.offer(envelope);
        return;
      case 'joined': {
        const { room, user, quiet } = envelope;
        const notice = { room, user, ...(quiet === undefined ? {} : { quiet }) };
        this.feed(envelope.room)?.presence(envelope.user.id, {
          state: 'joined',
          emit: (to) => to.emit('joined', notice),
        });
        return;
      }
      case 'left': {
        const { room, user, reason, to, quiet } = envelope;
        const notice = {
          room,
          user,
          reason,
          ...(to === undefined ? {} : { to }),
          ...(quiet === undefined ? {} : { quiet }),
        };
        this.feed(envelope.room)?.presence(envelope.user.id, {
          state: 'left',
          emit: (to) => to.emit('left', notice),
        });
        return;
      }
      case 'dm':
        if (topic.kind === 'user') {
          this.deps.inbox.deliver(envelope, this.deps.registry.ofUser(topic.userId), topic.userId);
          // Both participants' topics may bring it here: the archive is offered one copy per
          // node (the sender's, or the recipient's when the sender has no session here) and
          // writes it if this node stored it (others' only with ARCHIVE_FOLLOWER_DELAY_MS).
          const senderHere = this.deps.registry.ofUser(envelope.from.id).size > 0;
          if (topic.userId === envelope.from.id || !senderHere) this.deps.storedDm?.(envelope);
        }
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
    this.deps.logger.info(
      { rooms: this.rooms.values().length },
      'message bus up; repairing room feeds',
    );
    this.repairRooms();
    this.deps.onResumed();
  }

  /**
   * Brings every room feed up to date with its log; a log behind what was delivered here (the
   * broker lost or rolled back data) is raised back (see RoomSequencer), so the seqs this node
   * delivers keep going up. A room no live node follows needs nothing: its next append starts a
   * new epoch (see Bus `StoredRange.epoch`), so no position given before the loss is given again.
   */
  repairRooms(): void {
    for (const feed of this.rooms.values()) void feed.sequencer.repair();
  }

  // ---- delivery ----

  private async open(room: string, feed: RoomFeed): Promise<void> {
    await this.deps.bus.subscribe({ kind: 'room', room });
    const { head } = await feed.fetch(0, 0);
    feed.sequencer.start(head);
  }
}
