import {
  CID_TTL_MS,
  type AppendOptions,
  type AppendOutcome,
  type PublishOptions,
  type PublishOutcome,
  type RateLimit,
  type StoredRange,
} from '../bus';
import {
  decodeStoredMessage,
  encodeEnvelope,
  encodeStoredMessage,
  type MessageDraft,
  type MessageEnvelope,
} from '../envelope';
import { takeToken, type Bucket } from '../token-bucket';
import { topicKey, type Topic } from '../topics';

/** What a broker delivers to: a node's bus, which decodes its own copy of each payload. */
export interface MemorySubscriber {
  receive(topic: Topic, payload: string): void;
}

/** A room's log: drafts as stored (encoded), each under its seq. */
interface RoomLog {
  head: number;
  entries: { seq: number; draft: string }[];
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

  /** @param historyLimit messages kept per room. @default 1_000 */
  constructor(
    private readonly historyLimit = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

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
    const { allowed, bucket } = takeToken(
      this.buckets.get(limit.bucket),
      this.now(),
      limit.perSecond,
      limit.burst,
    );
    this.buckets.set(limit.bucket, bucket);
    return allowed;
  }

  append(draft: MessageDraft, options: AppendOptions): AppendOutcome {
    const now = this.now();
    const cidKey = options.cid === undefined ? undefined : `${draft.from.id}:${options.cid}`;
    if (cidKey !== undefined) {
      const previous = this.cids.get(cidKey);
      if (previous && previous.expires > now) {
        return { status: 'duplicate', id: previous.id, seq: previous.seq };
      }
    }
    if (options.limit && !this.take(options.limit)) return { status: 'rate-limited' };
    // As in Redis: the draft is stored as encoded, and published beside its seq.
    const log = this.log(draft.room);
    const seq = ++log.head;
    const encoded = encodeEnvelope(draft);
    log.entries.push({ seq, draft: encoded });
    if (log.entries.length > this.historyLimit) log.entries.shift();
    if (cidKey !== undefined) {
      this.cids.set(cidKey, { id: draft.id, seq, expires: now + CID_TTL_MS });
    }
    this.publish({ kind: 'room', room: draft.room }, encodeStoredMessage(seq, encoded));
    return { status: 'stored', seq };
  }

  range(room: string, after: number, limit: number): StoredRange {
    const log = this.log(room);
    return this.snapshot(log, log.entries.filter((e) => e.seq > after).slice(0, limit));
  }

  latest(room: string, limit: number): StoredRange {
    const log = this.log(room);
    return this.snapshot(log, limit > 0 ? log.entries.slice(-limit) : []);
  }

  private snapshot(log: RoomLog, entries: RoomLog['entries']): StoredRange {
    const first = log.entries[0]?.seq ?? log.head + 1;
    const messages = entries
      .map((e) => decodeStoredMessage(e.seq, e.draft))
      .filter((m): m is MessageEnvelope => m !== undefined);
    return { messages, first, head: log.head };
  }

  private log(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (!log) this.rooms.set(room, (log = { head: 0, entries: [] }));
    return log;
  }
}
