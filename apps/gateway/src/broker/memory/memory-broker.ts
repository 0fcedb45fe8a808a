import {
  CID_TTL_MS,
  DEFAULT_ROOM_STORAGE,
  type AppendOptions,
  type AppendOutcome,
  type PublishOptions,
  type PublishOutcome,
  type RateLimit,
  type RoomStorage,
  type StoredRange,
} from '../bus';
import {
  decodeStoredMessage,
  encodeEnvelope,
  encodeStoredMessage,
  type MessageDraft,
  type MessageEnvelope,
} from '../envelope';
import { newEpoch } from '../epoch';
import { takeToken, type Bucket } from '../token-bucket';
import { topicKey, type Topic } from '../topics';

/** What a broker delivers to: a node's bus, which decodes its own copy of each payload. */
export interface MemorySubscriber {
  receive(topic: Topic, payload: string): void;
}

/** A room's log: drafts as stored (encoded), each under its seq, and their bytes. */
interface RoomLog {
  head: number;
  /** Created with the first entry (see Bus `StoredRange.epoch`); undefined in EMPTY_LOG only. */
  epoch: string | undefined;
  entries: { seq: number; draft: string; bytes: number }[];
  bytes: number;
  /** When the last message was stored (ms); the log is gone `roomTtlMs` later. */
  touched: number;
}

/**
 * The embedded broker: what Redis is for a cluster, for nodes in one process. Share one broker
 * between several MemoryBus instances to run several nodes in one process.
 */
export class MemoryBroker {
  private readonly subscribers = new Map<string, Set<MemorySubscriber>>();
  private readonly rooms = new Map<string, RoomLog>();
  private readonly cids = new Map<string, { id: string; seq: number; expires: number }>();
  private readonly buckets = new Map<string, Bucket>();
  /**
   * The broker's data generation: it never loses data while it lives, so one for its life; a
   * retry from another generation comes from before this process (see AppendOptions).
   */
  readonly generation = newEpoch();

  private readonly storage: RoomStorage;

  /**
   * @param historyLimit messages kept per room. @default 1_000
   * @param storage the rest of the room bounds, as RedisBus keeps them. @default DEFAULT_ROOM_STORAGE
   */
  constructor(
    private readonly historyLimit = 1_000,
    private readonly now: () => number = Date.now,
    storage: Partial<RoomStorage> = {},
  ) {
    this.storage = { ...DEFAULT_ROOM_STORAGE, ...storage };
  }

  attach(bus: MemorySubscriber, topic: Topic): void {
    const key = topicKey(topic);
    let set = this.subscribers.get(key);
    if (!set) this.subscribers.set(key, (set = new Set()));
    set.add(bus);
  }

  detach(bus: MemorySubscriber, topic: Topic): void {
    const key = topicKey(topic);
    const set = this.subscribers.get(key);
    set?.delete(bus);
    if (set?.size === 0) this.subscribers.delete(key);
  }

  detachAll(bus: MemorySubscriber): void {
    for (const [key, set] of this.subscribers) {
      set.delete(bus);
      if (set.size === 0) this.subscribers.delete(key);
    }
  }

  /** Delivers asynchronously and in order, each subscriber decoding its own copy, like Redis. */
  publish(topic: Topic, payload: string): number {
    const set = this.subscribers.get(topicKey(topic));
    if (!set) return 0;
    for (const bus of set) queueMicrotask(() => bus.receive(topic, payload));
    return set.size;
  }

  /** Publish with the bus' dedupe and rate limit options. */
  publishOnce(topic: Topic, payload: string, options: PublishOptions): PublishOutcome {
    const { dedupe, limit } = options;
    const now = this.now();
    if (dedupe) {
      const previous = this.cids.get(dedupe.key);
      if (previous && previous.expires > now) return { status: 'duplicate', id: previous.id };
    }
    if (limit && !this.take(limit)) return { status: 'rate-limited' };
    const receivers = this.publish(topic, payload);
    if (dedupe) this.cids.set(dedupe.key, { id: dedupe.id, seq: 0, expires: now + CID_TTL_MS });
    return { status: 'published', receivers };
  }

  take(limit: RateLimit): boolean {
    return this.takeAll([limit]);
  }

  /** A token from every bucket, or from none (as the Redis append script does). */
  private takeAll(limits: readonly RateLimit[]): boolean {
    const now = this.now();
    const taken = limits.map((l) =>
      takeToken(this.buckets.get(l.bucket), now, l.perSecond, l.burst),
    );
    const allowed = taken.every((t) => t.allowed);
    limits.forEach((limit, i) => {
      const t = taken[i];
      if (!t) return;
      this.buckets.set(
        limit.bucket,
        allowed || !t.allowed ? t.bucket : { ...t.bucket, tokens: t.bucket.tokens + 1 },
      );
    });
    return allowed;
  }

  /** A retry from another generation than this broker's, whose `cid` it has no record of. */
  unsure(firstGeneration: string | undefined): boolean {
    return firstGeneration !== undefined && firstGeneration !== this.generation;
  }

  append(draft: MessageDraft, options: AppendOptions): AppendOutcome {
    const now = this.now();
    const cidKey = options.cid === undefined ? undefined : `${draft.from.id}:${options.cid}`;
    if (cidKey !== undefined) {
      const previous = this.cids.get(cidKey);
      if (previous && previous.expires > now) {
        return { status: 'duplicate', id: previous.id, seq: previous.seq };
      }
      if (this.unsure(options.firstGeneration)) return { status: 'unsure' };
    }
    const limits = [options.limit, options.addressLimit].filter(
      (l): l is RateLimit => l !== undefined,
    );
    if (!this.takeAll(limits)) return { status: 'rate-limited' };
    let log = this.stored(draft.room);
    if (!log) {
      this.forgetExpired();
      if (this.rooms.size >= this.storage.maxRooms) return { status: 'rooms-full' };
      log = { head: 0, epoch: undefined, entries: [], bytes: 0, touched: now };
      this.rooms.set(draft.room, log);
    }
    const epoch = (log.epoch ??= newEpoch());
    // As in Redis: the draft is stored as encoded, and published beside its seq, which is above
    // the sender's floor.
    log.head = Math.max(log.head, options.floor ?? 0);
    const seq = ++log.head;
    const encoded = encodeEnvelope(draft);
    const bytes = Buffer.byteLength(encoded);
    log.entries.push({ seq, draft: encoded, bytes });
    log.bytes += bytes;
    log.touched = now;
    while (
      log.entries.length > 1 &&
      (log.entries.length > this.historyLimit || log.bytes > this.storage.maxRoomBytes)
    ) {
      log.bytes -= log.entries.shift()?.bytes ?? 0;
    }
    if (cidKey !== undefined) {
      this.cids.set(cidKey, { id: draft.id, seq, expires: now + CID_TTL_MS });
    }
    this.publish({ kind: 'room', room: draft.room }, encodeStoredMessage(seq, encoded, epoch));
    return { status: 'stored', seq, epoch };
  }

  /** As Bus.range: `limit` entries, cut after the one that reaches `maxBytes`. */
  range(
    room: string,
    after: number,
    limit: number,
    maxBytes = Number.MAX_SAFE_INTEGER,
  ): StoredRange {
    const log = this.stored(room) ?? EMPTY_LOG;
    const page: RoomLog['entries'] = [];
    let bytes = 0;
    for (const entry of log.entries) {
      if (entry.seq <= after) continue;
      if (page.length >= limit || bytes >= maxBytes) break;
      page.push(entry);
      bytes += Buffer.byteLength(entry.draft);
    }
    return this.snapshot(log, page);
  }

  latest(room: string, limit: number): StoredRange {
    const log = this.stored(room) ?? EMPTY_LOG;
    return this.snapshot(log, limit > 0 ? log.entries.slice(-limit) : []);
  }

  /** As RedisBus.raise: the counter only goes up. */
  raise(room: string, atLeast: number): number {
    let log = this.stored(room);
    if (!log) {
      log = { head: 0, epoch: undefined, entries: [], bytes: 0, touched: this.now() };
      this.rooms.set(room, log);
    }
    log.head = Math.max(log.head, atLeast);
    return log.head;
  }

  private snapshot(log: RoomLog, entries: RoomLog['entries']): StoredRange {
    const first = log.entries[0]?.seq ?? log.head + 1;
    const messages = entries
      .map((e) => decodeStoredMessage(e.seq, e.draft, log.epoch))
      .filter((m): m is MessageEnvelope => m !== undefined);
    return {
      messages,
      first,
      head: log.head,
      ...(log.epoch === undefined ? {} : { epoch: log.epoch }),
    };
  }

  /** The room's log while it lives; an expired one is deleted (Redis expires its keys). */
  private stored(room: string): RoomLog | undefined {
    const log = this.rooms.get(room);
    if (log && this.now() - log.touched >= this.storage.roomTtlMs) {
      this.rooms.delete(room);
      return undefined;
    }
    return log;
  }

  private forgetExpired(): void {
    for (const room of [...this.rooms.keys()]) this.stored(room);
  }
}

const EMPTY_LOG: RoomLog = { head: 0, epoch: undefined, entries: [], bytes: 0, touched: 0 };
