import type { Logger } from '../../logger';
import {
  CID_TTL_MS,
  type AppendOptions,
  type AppendOutcome,
  type Bus,
  type BusHandler,
  type PublishOptions,
  type PublishOutcome,
  type RateLimit,
  type RoomStorage,
  type StoredRange,
} from '../bus';
import { LocalBudget } from '../local-budget';
import { newEpoch } from '../epoch';
import {
  decodeEnvelope,
  decodeStoredMessage,
  encodeEnvelope,
  type DmEnvelope,
  type Envelope,
  type MessageDraft,
  type MessageEnvelope,
} from '../envelope';
import type { Topic } from '../topics';
import type { RedisBackend } from './redis-backend';
import { APPEND, PUBLISH_ONCE, RAISE, RANGE, type RangeReply } from './scripts/room-log';
import { sendOnceArgv } from './scripts/fragments';
import { RANGE_PAGE } from './scripts/room-page';
import { ADMIT_ROOM } from './scripts/cluster';
import { SentCids } from './sent-cids';
import { answerUnsureRetry } from './unsure-retry';
import { takeTokens } from './tokens';

/** The readiness write probe's key expires on its own after this long. */
const WRITE_PROBE_TTL_MS = 10_000;
/** Cluster only: a node admits a room it sends to again after this long. @default 60_000 */
const ADMIT_EVERY_MS = 60_000;
/** `cid` records written back at once after a loss (see restoreSends). @default 100 */
const RESTORE_CHUNK = 100;

export interface RedisBusOptions extends RoomStorage {
  /** Messages kept per room. @default 1_000 */
  historyLimit: number;
  logger: Logger;
}

/**
 * The bus over a {@link RedisBackend}: one pub/sub channel per topic, a stream per room for
 * its log. Appends run one script (seq, store, publish in one step); see scripts/room-log.ts.
 */
export class RedisBus implements Bus {
  private handler: BusHandler | undefined;
  /** Senders this node knows to be over budget are refused here, without a round trip. */
  private readonly budget = new LocalBudget();
  /** Cluster only: rooms this node admitted into the index of stored rooms, and when. */
  private readonly admitted = new Map<string, number>();
  /**
   * The `cid` records this node wrote, and those of the messages it received from other nodes,
   * to write back after a loss (see restoreSends).
   */
  private readonly sent = new SentCids();

  constructor(
    private readonly redis: RedisBackend,
    private readonly options: RedisBusOptions,
  ) {
    redis.setListener({
      message: (channel, payload) => this.receive(channel, payload),
      up: () => this.handler?.resumed(),
      down: (reason) => this.handler?.down(reason),
    });
  }

  generation(): string | undefined {
    return this.redis.fence.generation || undefined;
  }

  setHandler(handler: BusHandler): void {
    this.handler = handler;
  }

  isUp(): boolean {
    return this.redis.isUp();
  }

  outage(): string | undefined {
    return this.redis.outageReason();
  }

  async probeWrite(nodeId: string): Promise<void> {
    const key = this.redis.names.writeProbe(nodeId);
    await this.redis.call((redis) => redis.set(key, String(Date.now()), 'PX', WRITE_PROBE_TTL_MS));
  }

  subscribe(topic: Topic): Promise<void> {
    return this.redis.subscribe(this.redis.names.channel(topic));
  }

  unsubscribe(topic: Topic): Promise<void> {
    return this.redis.unsubscribe(this.redis.names.channel(topic));
  }

  async publish(
    topic: Topic,
    envelope: Envelope,
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    const { names } = this.redis;
    const channel = names.channel(topic);
    const payload = encodeEnvelope(envelope);
    const { limit, dedupe } = options;
    if (!limit && !dedupe) {
      return { status: 'published', receivers: await this.redis.publish(channel, payload) };
    }
    const { sharded } = this.redis;
    const dedupeKey = names.publishOnce(topic, dedupe?.key ?? '');
    if (sharded && limit && !(await takeTokens(this.redis, [limit], this.budget))) {
      return { status: 'rate-limited' };
    }
    return this.redis.run(PUBLISH_ONCE, {
      keys: {
        // On a cluster the token was taken above: the bucket is a placeholder in the slot.
        bucket: sharded ? dedupeKey : names.rateBucket(limit?.bucket ?? ''),
        dedupe_key: dedupeKey,
      },
      argv: {
        publish: this.redis.publishCommand,
        channel,
        payload,
        use_limit: limit && !sharded ? '1' : '0',
        per_second: limit?.perSecond ?? 0,
        burst: limit?.burst ?? 0,
        use_dedupe: dedupe ? '1' : '0',
        id: dedupe?.id ?? '',
        ttl_ms: CID_TTL_MS,
      },
    });
  }

  async append(draft: MessageDraft, options: AppendOptions = {}): Promise<AppendOutcome> {
    const { names } = this.redis;
    const { cid, limit, addressLimit, floor = 0 } = options;
    this.redis.fence.guard();
    if (cid !== undefined && this.redis.fence.unsure(options.firstGeneration)) {
      const key = names.sendCid(draft.room, draft.from.id, cid);
      return answerUnsureRetry(this.redis, key, this.sent.get(key));
    }
    const limits = [limit, addressLimit].filter((l): l is RateLimit => l !== undefined);
    if (!this.budget.take(limits)) return { status: 'rate-limited' };
    const { sharded } = this.redis;
    if (sharded) {
      if (!(await takeTokens(this.redis, limits, this.budget))) return { status: 'rate-limited' };
      if (!(await this.admit(draft.room))) return { status: 'rooms-full' };
    }
    if (!sharded && this.redis.fence.starting()) this.redis.fence.refused('settling');
    // On a cluster the index and the buckets are handled above: placeholders in the room's slot.
    const seqCounter = names.roomSeq(draft.room);
    const cidKey = names.sendCid(draft.room, draft.from.id, cid ?? '');
    const inScript = sharded ? {} : { limit, addressLimit };
    const reply = await this.redis.run(APPEND, {
      keys: {
        seq_counter: seqCounter,
        log: names.roomLog(draft.room),
        log_bytes: names.roomLogBytes(draft.room),
        room_index: sharded ? seqCounter : names.roomsStored(),
        cid_key: cidKey,
        bucket: sharded ? seqCounter : names.rateBucket(limit?.bucket ?? ''),
        address_bucket: sharded ? seqCounter : names.rateBucket(addressLimit?.bucket ?? ''),
        epoch_key: names.roomEpoch(draft.room),
        // On a cluster these are in another slot: placeholders, and the fence is off.
        node_mark: sharded ? seqCounter : names.nodeMark(this.redis.fence.node),
        settle: sharded ? seqCounter : names.settle(),
        cluster_epoch: sharded ? seqCounter : names.clusterEpoch(),
      },
      argv: {
        publish: this.redis.publishCommand,
        use_room_index: sharded ? '0' : '1',
        channel: names.channel({ kind: 'room', room: draft.room }),
        room: draft.room,
        draft: encodeEnvelope(draft),
        max_len: this.options.historyLimit,
        max_bytes: this.options.maxRoomBytes,
        max_rooms: this.options.maxRooms,
        room_ttl_ms: this.options.roomTtlMs,
        ...sendOnceArgv(draft.id, cid, inScript.limit),
        use_address_limit: inScript.addressLimit ? '1' : '0',
        address_per_second: addressLimit?.perSecond ?? 0,
        address_burst: addressLimit?.burst ?? 0,
        floor,
        fresh_epoch: newEpoch(),
        use_fence: sharded ? '0' : '1',
        mark: this.redis.fence.mark,
      },
    });
    if (reply.status === 'fenced') return this.redis.fence.refused(reply.reason);
    // What SEND_ONCE's remember_send wrote.
    if (reply.status === 'stored' && cid !== undefined) {
      this.sent.add(cidKey, `${draft.id} ${reply.seq}`, CID_TTL_MS);
    }
    if (reply.status !== 'rate-limited') return reply;
    if (limit) this.budget.refused(limit, reply.userTokens);
    if (addressLimit) this.budget.refused(addressLimit, reply.addressTokens);
    return { status: 'rate-limited' };
  }

  async range(
    room: string,
    after: number,
    limit: number,
    maxBytes = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredRange> {
    const { names } = this.redis;
    const reply = await this.redis.run(RANGE_PAGE, {
      keys: {
        seq_counter: names.roomSeq(room),
        log: names.roomLog(room),
        epoch_key: names.roomEpoch(room),
      },
      argv: { after, limit, max_bytes: maxBytes },
    });
    return this.decode(room, reply);
  }

  async latest(room: string, limit: number): Promise<StoredRange> {
    const { names } = this.redis;
    const reply = await this.redis.run(RANGE, {
      keys: {
        seq_counter: names.roomSeq(room),
        log: names.roomLog(room),
        epoch_key: names.roomEpoch(room),
      },
      argv: { after: 0, limit, mode: 'latest' },
    });
    return this.decode(room, reply);
  }

  raise(room: string, atLeast: number): Promise<number> {
    return this.redis.run(RAISE, {
      keys: { seq_counter: this.redis.names.roomSeq(room) },
      argv: { at_least: atLeast, room_ttl_ms: this.options.roomTtlMs },
    });
  }

  starting(): boolean {
    return !this.redis.sharded && this.redis.fence.starting();
  }

  async restoreSends(): Promise<number> {
    const records = this.sent.live();
    for (let i = 0; i < records.length; i += RESTORE_CHUNK) {
      await Promise.all(
        records
          .slice(i, i + RESTORE_CHUNK)
          .map(({ key, value, ttlMs }) =>
            this.redis.call((redis) => redis.set(key, value, 'PX', ttlMs, 'NX')),
          ),
      );
    }
    return records.length;
  }

  close(): Promise<void> {
    return this.redis.close();
  }

  /**
   * Cluster only: admits `room` into the index of stored rooms (MAX_ROOMS), on the state's shard,
   * when this node has not in the last ADMIT_EVERY_MS (at most a quarter of ROOM_TTL_S), so the
   * index is touched by a room's first message and then rarely, not by every message. The entry
   * lives ROOM_TTL_S after the last admission; it may lapse up to that interval before the log.
   */
  private async admit(room: string): Promise<boolean> {
    const { roomTtlMs, maxRooms } = this.options;
    const every = Math.min(ADMIT_EVERY_MS, roomTtlMs / 4);
    const at = this.admitted.get(room);
    if (at !== undefined && Date.now() - at < every) return true;
    const admitted = await this.redis.run(ADMIT_ROOM, {
      keys: { room_index: this.redis.names.roomsStored() },
      argv: { room, max_rooms: maxRooms, keep_ms: roomTtlMs },
    });
    if (!admitted) return false;
    if (this.admitted.size >= maxRooms) this.admitted.clear();
    this.admitted.set(room, Date.now());
    return true;
  }

  private decode(room: string, reply: RangeReply): StoredRange {
    const messages: MessageEnvelope[] = [];
    for (const { seq, draft } of reply.entries) {
      const message = decodeStoredMessage(seq, draft, reply.epoch);
      if (message) this.keepCid(message);
      if (message) messages.push(message);
      else this.options.logger.warn({ room, seq }, 'dropped a malformed stored message');
    }
    return {
      messages,
      first: reply.first,
      head: reply.head,
      ...(reply.epoch === undefined ? {} : { epoch: reply.epoch }),
    };
  }

  private receive(channel: string, payload: string): void {
    const topic = this.redis.names.topic(channel);
    const envelope = topic && decodeEnvelope(payload);
    if (!topic || !envelope) {
      this.options.logger.warn({ channel }, 'dropped a malformed envelope');
      return;
    }
    if (envelope.type === 'message' || envelope.type === 'dm') this.keepCid(envelope);
    this.handler?.envelope(envelope, topic);
  }

  /**
   * Keeps the `cid` record of a message or DM received (see restoreSends): if the node that
   * stored it dies before its ack and the broker then loses the record, this node writes it
   * back, so the sender's retry is answered `duplicate`, not stored twice. Also the node's own
   * (a send whose reply was lost on the way back is kept as it comes back on the room's channel)
   * and those read from a room's log (SentCids keeps each key once).
   */
  private keepCid(message: MessageEnvelope | DmEnvelope): void {
    const { names } = this.redis;
    const { cid, from } = message;
    if (cid === undefined) return;
    const key =
      message.type === 'dm'
        ? names.dmCid(message.conversation, from.id, cid)
        : names.sendCid(message.room, from.id, cid);
    const ttlMs = CID_TTL_MS - Math.max(0, Date.now() - message.ts);
    if (ttlMs > 0) this.sent.add(key, `${message.id} ${message.seq}`, ttlMs);
  }
}
