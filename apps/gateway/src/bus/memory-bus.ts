import {
  CID_TTL_MS,
  type AppendOptions,
  type AppendOutcome,
  type Bus,
  type BusHandler,
  type PublishOptions,
  type PublishOutcome,
  type RateLimit,
  type StoredRange,
} from './bus';
import {
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  type MessageDraft,
  type MessageEnvelope,
} from './envelope';
import { takeToken, type Bucket } from './token-bucket';
import { topicKey, type Topic } from './topics';

interface RoomLog {
  head: number;
  messages: MessageEnvelope[];
}

/**
 * The embedded broker: what Redis is for a cluster, for nodes in one process. Share one broker
 * between several MemoryBus instances to run several nodes in one process.
 */
export class MemoryBroker {
  private readonly subscribers = new Map<string, Set<MemoryBus>>();
  private readonly rooms = new Map<string, RoomLog>();
  private readonly cids = new Map<string, { id: string; seq: number; expires: number }>();
  private readonly buckets = new Map<string, Bucket>();

  /** @param historyLimit messages kept per room. @default 1_000 */
  constructor(
    private readonly historyLimit = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  attach(bus: MemoryBus, topic: Topic): void {
    const key = topicKey(topic);
    let set = this.subscribers.get(key);
    if (!set) this.subscribers.set(key, (set = new Set()));
    set.add(bus);
  }

  detach(bus: MemoryBus, topic: Topic): void {
    const key = topicKey(topic);
    const set = this.subscribers.get(key);
    set?.delete(bus);
    if (set?.size === 0) this.subscribers.delete(key);
  }

  detachAll(bus: MemoryBus): void {
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
    const log = this.log(draft.room);
    const envelope: MessageEnvelope = { ...draft, seq: ++log.head };
    log.messages.push(envelope);
    if (log.messages.length > this.historyLimit) log.messages.shift();
    if (cidKey !== undefined) {
      this.cids.set(cidKey, { id: draft.id, seq: envelope.seq, expires: now + CID_TTL_MS });
    }
    this.publish({ kind: 'room', room: draft.room }, encodeEnvelope(envelope));
    return { status: 'stored', seq: envelope.seq };
  }

  range(room: string, after: number, limit: number): StoredRange {
    const log = this.log(room);
    const messages = log.messages.filter((m) => m.seq > after).slice(0, limit);
    return this.snapshot(log, messages);
  }

  latest(room: string, limit: number): StoredRange {
    const log = this.log(room);
    return this.snapshot(log, limit > 0 ? log.messages.slice(-limit) : []);
  }

  private snapshot(log: RoomLog, messages: MessageEnvelope[]): StoredRange {
    const first = log.messages[0]?.seq ?? log.head + 1;
    return { messages: messages.map((m) => ({ ...m })), first, head: log.head };
  }

  private log(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (!log) this.rooms.set(room, (log = { head: 0, messages: [] }));
    return log;
  }
}

/** A node's connection to a {@link MemoryBroker}. Never down: it has no network to lose. */
export class MemoryBus implements Bus {
  private handler: BusHandler | undefined;
  private closed = false;

  constructor(readonly broker: MemoryBroker) {}

  setHandler(handler: BusHandler): void {
    this.handler = handler;
  }

  /** Called by the broker. Bad payloads are dropped, as from Redis. */
  receive(topic: Topic, payload: string): void {
    if (this.closed) return;
    const envelope = decodeEnvelope(payload);
    if (envelope) this.handler?.envelope(envelope, topic);
  }

  async subscribe(topic: Topic): Promise<void> {
    this.broker.attach(this, topic);
  }

  async unsubscribe(topic: Topic): Promise<void> {
    this.broker.detach(this, topic);
  }

  async publish(
    topic: Topic,
    envelope: Envelope,
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    return this.broker.publishOnce(topic, encodeEnvelope(envelope), options);
  }

  async append(draft: MessageDraft, options: AppendOptions = {}): Promise<AppendOutcome> {
    return this.broker.append(draft, options);
  }

  async range(room: string, after: number, limit: number): Promise<StoredRange> {
    return this.broker.range(room, after, limit);
  }

  async latest(room: string, limit: number): Promise<StoredRange> {
    return this.broker.latest(room, limit);
  }

  isUp(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.broker.detachAll(this);
  }
}
