import type { Envelope, MessageDraft, MessageEnvelope } from './envelope';
import type { Topic } from './topics';

/**
 * Receives everything a node's subscriptions bring. One handler per bus; it must not throw.
 */
export interface BusHandler {
  envelope(envelope: Envelope, topic: Topic): void;
  /** The broker is unreachable: publishes fail and nothing arrives until `resumed`. */
  down(reason: string): void;
  /**
   * Subscriptions are back after an outage. Anything published meanwhile was not delivered;
   * room messages can be recovered with `range`.
   */
  resumed(): void;
}

/** A token bucket shared by every session of one user on every node. */
export interface RateLimit {
  bucket: string;
  perSecond: number;
  burst: number;
}

export type AppendOutcome =
  /** `epoch`: the room log's epoch, (epoch, seq) names the message. */
  | { status: 'stored'; seq: number; epoch: string }
  /** The draft's `cid` was stored before: nothing was published again. */
  | { status: 'duplicate'; id: string; seq: number }
  | { status: 'rate-limited' }
  /** The room has no stored log and `maxRooms` rooms have one: nothing was stored. */
  | { status: 'rooms-full' }
  /**
   * A retry (`firstGeneration`) from before the broker lost its records, whose `cid` has no
   * record: it may or may not have been stored then; nothing was stored now.
   */
  | { status: 'unsure' };

export type PublishOutcome =
  | { status: 'published'; receivers: number }
  /** `dedupe.key` was used before: nothing was published again. */
  | { status: 'duplicate'; id: string }
  | { status: 'rate-limited' };

/**
 * What the broker keeps of rooms, on every bus: Redis (and the memory broker) grow by at most
 * `maxRooms` logs of at most `historyLimit` entries and `maxRoomBytes` bytes of drafts each,
 * whatever clients do.
 */
export interface RoomStorage {
  /** Bytes of stored drafts (envelope JSON) kept per room; oldest go first. @default 1_048_576 */
  maxRoomBytes: number;
  /**
   * A room's log and seq counter are deleted this long after its last message; the room then
   * starts over at seq 1 (a resume with an older `since` is told so). @default 604_800_000 (7 days)
   */
  roomTtlMs: number;
  /** Rooms with a stored log at most; a message that would start another is refused. @default 10_000 */
  maxRooms: number;
}

export const DEFAULT_ROOM_STORAGE: RoomStorage = {
  maxRoomBytes: 1_048_576,
  roomTtlMs: 604_800_000,
  maxRooms: 10_000,
};

/** How long a send's `cid` (or a publish's dedupe key) is remembered, on every bus. */
export const CID_TTL_MS = 600_000;

export interface PublishOptions {
  limit?: RateLimit;
  /** Publish at most once per key (for CID_TTL_MS); `id` is what a duplicate reports. */
  dedupe?: { key: string; id: string };
}

export interface AppendOptions {
  /** Client retry id, unique per sender: a second append with it is a no-op. */
  cid?: string;
  limit?: RateLimit;
  /** A second bucket that must also hold a token (an anonymous sender's address); both or neither are spent. */
  addressLimit?: RateLimit;
  /**
   * The highest seq of the room this node has delivered: the new seq is above it even if the
   * broker's counter went back (Redis restarted empty or from an older snapshot), so no
   * position is ever given to two messages. @default 0
   */
  floor?: number;
  /**
   * A retry's first attempt's broker generation (SendRequest.generation). When it is not the
   * current one, the send is answered from its `cid` record alone, never stored ('unsure').
   */
  firstGeneration?: string;
}

/** A snapshot of a room's stored history. */
export interface StoredRange {
  /** Ascending by seq. */
  messages: MessageEnvelope[];
  /** Lowest seq still stored (head + 1 when nothing is stored). */
  first: number;
  /** Highest seq ever assigned in the room (0: none). */
  head: number;
  /**
   * The log's epoch: created with its first entry, gone with the log, and renewed at the first
   * append after the broker lost or rolled back data (the log's older entries go with the old
   * epoch). (epoch, seq) names one message forever. Undefined while the room has no log.
   */
  epoch?: string;
}

/**
 * The only path between nodes.
 *
 * Delivery guarantee: at most once, in publish order per publisher, to every node subscribed to
 * the topic when the envelope is published. Envelopes published while a node is disconnected are
 * lost to it; room messages are also stored (`append`), so a node repairs such gaps with `range`
 * after `resumed`. Operations reject with BrokerUnavailableError while the broker is away.
 * Room messages get a per-room `seq`, assigned by the broker in the same step that
 * stores them, so the order of seqs is the order of delivery.
 */
export interface Bus {
  /** Registers the single handler for incoming envelopes and state changes. */
  setHandler(handler: BusHandler): void;
  /** Resolves once the subscription is active: later publishes to the topic will arrive. */
  subscribe(topic: Topic): Promise<void>;
  unsubscribe(topic: Topic): Promise<void>;
  /** Publishes without storing; `receivers` is how many nodes got it. */
  publish(topic: Topic, envelope: Envelope, options?: PublishOptions): Promise<PublishOutcome>;
  /**
   * The broker's data generation as this node knows it (changes when the broker lost or rolled
   * back data; see Welcome.generation); undefined before the node's first check-in.
   */
  generation(): string | undefined;
  /** Stores a room message, assigning its seq, and publishes it to the room topic. */
  append(draft: MessageDraft, options?: AppendOptions): Promise<AppendOutcome>;
  /**
   * Stored messages of `room` with seq > `after`, oldest first: at most `limit`, and no more
   * after the one that brings their stored bytes to `maxBytes` (at least one when there is one).
   * A short page is not the end of the log: read on until `head`.
   */
  range(room: string, after: number, limit: number, maxBytes?: number): Promise<StoredRange>;
  /** The newest `limit` stored messages of `room`, oldest first (unbounded in bytes: keep small). */
  latest(room: string, limit: number): Promise<StoredRange>;
  /**
   * Raises the room's seq counter to `atLeast` if it is lower (never lowers it): what a node that
   * delivered up to `atLeast` re-asserts after the broker lost or rolled back the room, so the
   * seqs it delivers keep going up (the room's next append starts a new epoch anyway, see
   * `StoredRange.epoch`). Resolves to the room's head afterwards.
   */
  raise(room: string, atLeast: number): Promise<number>;
  /**
   * Writes back the `cid` records of the sends this node stored or received in the last
   * CID_TTL_MS (never over one the broker has), after the broker lost or rolled back data, so a
   * retry of such a send is still answered `duplicate`, even if the node that stored it died
   * before its ack. Resolves to how many it wrote or found.
   */
  restoreSends(): Promise<number>;
  /**
   * True while this process appends nothing yet: within one settle window of its first check-in
   * (see BrokerFence), appends are refused (BrokerSettlingError, nothing stored).
   */
  starting(): boolean;
  /** True while publishes and subscriptions work. */
  isUp(): boolean;
  /** While not up: where the broker is, since when it is unreachable, and why; else undefined. */
  outage(): string | undefined;
  /**
   * Resolves if the broker accepts a write now, else rejects with BrokerUnavailableError naming
   * the refusal. An out-of-memory, read-only or failing-to-persist Redis still delivers PUBLISH,
   * so the canary alone cannot tell whether sends, joins and connects will work.
   */
  probeWrite(nodeId: string): Promise<void>;
  close(): Promise<void>;
}
