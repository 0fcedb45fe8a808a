import type { UserRef } from '@chat/protocol';
import type { ChainableCommander } from 'ioredis';
import { CID_TTL_MS } from '../bus';
import { sendOnceArgv } from './scripts/fragments';
import {
  DEFAULT_DM_STORAGE,
  type ActiveConversations,
  type ConversationState,
  type DmAppendOptions,
  type DmAppendOutcome,
  type DmPage,
  type DmStorage,
  type DmStore,
  type MarkKind,
  decodeRecipient,
  encodeRecipient,
} from '../dm-store';
import { decodeStoredDm, encodeEnvelope, type DmDraft, type DmEnvelope } from '../envelope';
import type { RedisBackend } from './redis-backend';
import { DM_APPEND, DM_MARK, DM_RAISE, DM_RECIPIENT } from './scripts/dm-log';
import { DM_TOUCH } from './scripts/cluster';
import { LocalBudget } from '../local-budget';
import { takeTokens } from './tokens';
import { answerUnsureRetry } from './unsure-retry';

type StreamEntry = [string, string[]];

/**
 * Conversations in Redis: a stream and a counter per pair, an index and marks per user. One
 * Redis stores and publishes a DM in one script; a Redis Cluster, where the conversation and its
 * two users live on different shards, in steps: the sender's token, the store (seq, log, cid: one
 * slot), then the users' indexes and the sender's marks, then the publish to both users. A
 * conversation's DMs published by different nodes may then arrive out of seq order; the inbox
 * never gives a seq twice, and a DM that arrives after a later one is in the conversation's
 * history (`history`), not lost.
 */
export class RedisDms implements DmStore {
  private readonly storage: DmStorage;
  /** Cluster only: senders known to be over budget, refused without a round trip. */
  private readonly budget = new LocalBudget();

  constructor(
    private readonly redis: RedisBackend,
    storage: Partial<DmStorage> = {},
  ) {
    this.storage = { ...DEFAULT_DM_STORAGE, ...storage };
  }

  async append(draft: DmDraft, options: DmAppendOptions): Promise<DmAppendOutcome> {
    const { names, sharded } = this.redis;
    const { cid, limit } = options;
    this.redis.fence.guard();
    if (cid !== undefined && this.redis.fence.unsure(options.firstGeneration)) {
      return answerUnsureRetry(this.redis, names.dmCid(draft.conversation, draft.from.id, cid));
    }
    if (sharded && limit) {
      if (!this.budget.take([limit]) || !(await takeTokens(this.redis, [limit], this.budget))) {
        return { status: 'rate-limited' };
      }
    }
    const { fence } = this.redis;
    if (!sharded && fence.starting()) fence.refused('settling');
    if (sharded && cid !== undefined) {
      const first = await this.claimRecipient(draft.from.id, cid, draft.to);
      if (first.id !== draft.to.id) return { status: 'redirected', to: first };
    }
    const record = !sharded && cid !== undefined;
    const seqCounter = names.dmSeq(draft.conversation);
    const toChannel = names.channel({ kind: 'user', userId: draft.to.id });
    const fromChannel = names.channel({ kind: 'user', userId: draft.from.id });
    const payload = encodeEnvelope(draft);
    const reply = await this.redis.run(DM_APPEND, {
      // On a cluster the users' keys are placeholders in the conversation's slot (store_only).
      keys: {
        seq_counter: seqCounter,
        log: names.dmLog(draft.conversation),
        cid_key: names.dmCid(draft.conversation, draft.from.id, cid ?? ''),
        bucket: sharded ? seqCounter : names.rateBucket(limit?.bucket ?? ''),
        from_index: sharded ? seqCounter : names.dmConversations(draft.from.id),
        to_index: sharded ? seqCounter : names.dmConversations(draft.to.id),
        from_marks: sharded ? seqCounter : names.dmMarks(draft.from.id),
        active_index: sharded ? seqCounter : names.dmActive(),
        // On a cluster these are in another slot: placeholders, and the fence is off.
        node_mark: sharded ? seqCounter : names.nodeMark(fence.node),
        settle: sharded ? seqCounter : names.settle(),
        recipient_key: record ? names.dmRecipient(draft.from.id, cid) : seqCounter,
      },
      argv: {
        publish: this.redis.publishCommand,
        store_only: sharded ? '1' : '0',
        to_channel: toChannel,
        from_channel: fromChannel,
        conversation: draft.conversation,
        draft: payload,
        max_len: this.storage.limit,
        ttl_ms: this.storage.ttlMs,
        active_ms: sharded ? 0 : this.storage.activeMs,
        ...sendOnceArgv(draft.id, cid, sharded ? undefined : limit),
        use_fence: sharded ? '0' : '1',
        mark: fence.mark,
        recipient: record ? encodeRecipient(draft.to) : '',
      },
    });
    if (reply.status === 'fenced') return fence.refused(reply.reason);
    if (!sharded || reply.status !== 'stored') return reply;
    const { conversation } = draft;
    const { ttlMs, activeMs } = this.storage;
    const touches = [draft.from.id, draft.to.id].map((userId) => ({
      index: names.dmConversations(userId),
      ttl: ttlMs,
    }));
    // The cluster-wide index is one key on one shard: one more command per DM there.
    if (activeMs > 0) touches.push({ index: names.dmActive(), ttl: activeMs });
    await Promise.all([
      ...touches.map(({ index, ttl }) =>
        this.redis.run(DM_TOUCH, { keys: { index }, argv: { conversation, ttl_ms: ttl } }),
      ),
      this.mark(draft.from.id, conversation, 'read', reply.seq),
      this.mark(draft.from.id, conversation, 'delivered', reply.seq),
    ]);
    const message = `${reply.seq} ${payload}`;
    await this.redis.publish(toChannel, message);
    if (fromChannel !== toChannel) await this.redis.publish(fromChannel, message);
    return reply;
  }

  page(conversation: string, before: number, limit: number): Promise<DmPage> {
    const end = before === 0 ? '+' : `(${before}-0`;
    return this.read(
      conversation,
      (multi, log) => multi.xrevrange(log, end, '-', 'COUNT', limit),
      true,
    );
  }

  since(conversation: string, after: number, limit: number): Promise<DmPage> {
    return this.read(conversation, (multi, log) =>
      multi.xrange(log, `(${after}-0`, '+', 'COUNT', limit),
    );
  }

  async conversations(userId: number): Promise<ConversationState[]> {
    const { names } = this.redis;
    const index = names.dmConversations(userId);
    const ids = await this.redis.call((redis) =>
      redis.zrevrangebyscore(index, '+inf', Date.now() - this.storage.ttlMs),
    );
    const out: ConversationState[] = [];
    // Most users have no conversation: their connect skips the marks' round trip.
    if (ids.length === 0) return out;
    const marks = await this.redis.call((redis) => redis.hgetall(names.dmMarks(userId)));
    for (const conversation of ids) {
      const page = await this.page(conversation, 0, 1);
      if (page.head === 0) continue;
      out.push({
        conversation,
        head: page.head,
        first: page.first,
        read: Number(marks[`r:${conversation}`] ?? 0),
        delivered: Number(marks[`d:${conversation}`] ?? 0),
        last: page.messages[0],
      });
    }
    return out;
  }

  async mark(userId: number, conversation: string, kind: MarkKind, seq: number): Promise<void> {
    await this.redis.run(DM_MARK, {
      keys: { marks: this.redis.names.dmMarks(userId) },
      argv: {
        field: `${kind === 'read' ? 'r' : 'd'}:${conversation}`,
        seq,
        ttl_ms: this.storage.ttlMs,
      },
    });
  }

  async raise(conversation: string, atLeast: number): Promise<void> {
    await this.redis.run(DM_RAISE, {
      keys: { seq_key: this.redis.names.dmSeq(conversation) },
      argv: { at_least: atLeast, ttl_ms: this.storage.ttlMs },
    });
  }

  async active(from: number, limit: number): Promise<ActiveConversations> {
    const index = this.redis.names.dmActive();
    const replies = await this.redis.call((redis) =>
      redis
        .multi()
        .zrangebyscore(index, from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
        .time()
        .exec(),
    );
    const [listed, time] = (replies ?? []).map(([, value]) => value);
    const [seconds, micros] = (time as [string, string] | undefined) ?? ['0', '0'];
    const flat = (listed as string[] | undefined) ?? [];
    const conversations: ActiveConversations['conversations'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      conversations.push({ conversation: flat[i] ?? '', at: Number(flat[i + 1]) });
    }
    return { now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), conversations };
  }

  async noteHolder(name: string, userId: number): Promise<void> {
    const key = this.redis.names.dmHolder(name);
    await this.redis.call((redis) => redis.set(key, String(userId), 'PX', this.storage.ttlMs));
  }

  async lastHolder(name: string): Promise<number | undefined> {
    const value = await this.redis.call((redis) => redis.get(this.redis.names.dmHolder(name)));
    return value === null ? undefined : Number(value);
  }

  async firstRecipient(from: number, cid: string): Promise<UserRef | undefined> {
    const key = this.redis.names.dmRecipient(from, cid);
    const value = await this.redis.call((redis) => redis.get(key));
    return value === null ? undefined : decodeRecipient(value);
  }

  /** Cluster only: records the first try's recipient (see DM_RECIPIENT); the one recorded. */
  private async claimRecipient(from: number, cid: string, to: UserRef): Promise<UserRef> {
    const reply = await this.redis.run(DM_RECIPIENT, {
      keys: { recipient_key: this.redis.names.dmRecipient(from, cid) },
      argv: { recipient: encodeRecipient(to), ttl_ms: CID_TTL_MS },
    });
    return (reply === undefined ? undefined : decodeRecipient(reply)) ?? to;
  }

  /** Head, oldest entry and the entries `pick` selects, in one MULTI (a consistent snapshot). */
  private async read(
    conversation: string,
    pick: (multi: ChainableCommander, log: string) => unknown,
    reversed = false,
  ): Promise<DmPage> {
    const { names } = this.redis;
    const log = names.dmLog(conversation);
    const replies = await this.redis.call((redis) => {
      const multi = redis.multi().get(names.dmSeq(conversation)).xrange(log, '-', '+', 'COUNT', 1);
      pick(multi, log);
      return multi.exec();
    });
    const [headReply, oldestReply, entriesReply] = (replies ?? []).map(([, value]) => value);
    const head = Number(headReply ?? 0);
    const oldest = (oldestReply as StreamEntry[] | undefined)?.[0];
    const entries = (entriesReply as StreamEntry[] | undefined) ?? [];
    if (reversed) entries.reverse();
    const messages = entries
      .map(([id, fields]) => decodeStoredDm(Number(id.split('-')[0]), fields[1] ?? ''))
      .filter((m): m is DmEnvelope => m !== undefined);
    return { messages, first: oldest ? Number(oldest[0].split('-')[0]) : head + 1, head };
  }
}
