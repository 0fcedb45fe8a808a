import type { ChainableCommander } from 'ioredis';
import { sendOnceArgv } from './scripts/fragments';
import {
  DEFAULT_DM_STORAGE,
  type ConversationState,
  type DmAppendOptions,
  type DmAppendOutcome,
  type DmPage,
  type DmStorage,
  type DmStore,
  type MarkKind,
} from '../dm-store';
import { decodeStoredDm, encodeEnvelope, type DmDraft, type DmEnvelope } from '../envelope';
import type { RedisBackend } from './redis-backend';
import { DM_APPEND, DM_MARK, DM_RAISE } from './scripts/dm-log';

type StreamEntry = [string, string[]];

/** Conversations in Redis: a stream and a counter per pair, an index and marks per user. */
export class RedisDms implements DmStore {
  private readonly storage: DmStorage;

  constructor(
    private readonly redis: RedisBackend,
    storage: Partial<DmStorage> = {},
  ) {
    this.storage = { ...DEFAULT_DM_STORAGE, ...storage };
  }

  async append(draft: DmDraft, options: DmAppendOptions): Promise<DmAppendOutcome> {
    const { names } = this.redis;
    const { cid, limit } = options;
    return this.redis.run(DM_APPEND, {
      keys: {
        seq_counter: names.dmSeq(draft.conversation),
        log: names.dmLog(draft.conversation),
        cid_key: names.dmCid(draft.from.id, cid ?? ''),
        bucket: names.rateBucket(limit?.bucket ?? ''),
        from_index: names.dmConversations(draft.from.id),
        to_index: names.dmConversations(draft.to.id),
        from_marks: names.dmMarks(draft.from.id),
      },
      argv: {
        to_channel: names.channel({ kind: 'user', userId: draft.to.id }),
        from_channel: names.channel({ kind: 'user', userId: draft.from.id }),
        conversation: draft.conversation,
        draft: encodeEnvelope(draft),
        max_len: this.storage.limit,
        ttl_ms: this.storage.ttlMs,
        ...sendOnceArgv(draft.id, cid, limit),
      },
    });
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
    const marks = await this.redis.call((redis) => redis.hgetall(names.dmMarks(userId)));
    const out: ConversationState[] = [];
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

  async noteHolder(name: string, userId: number): Promise<void> {
    const key = this.redis.names.dmHolder(name);
    await this.redis.call((redis) => redis.set(key, String(userId), 'PX', this.storage.ttlMs));
  }

  async lastHolder(name: string): Promise<number | undefined> {
    const value = await this.redis.call((redis) => redis.get(this.redis.names.dmHolder(name)));
    return value === null ? undefined : Number(value);
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
