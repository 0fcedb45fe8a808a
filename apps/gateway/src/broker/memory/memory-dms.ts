import { nameKey, type UserRef } from '@chat/protocol';
import { CID_TTL_MS } from '../bus';
import {
  DEFAULT_DM_STORAGE,
  participants,
  type ActiveConversations,
  type ConversationState,
  type DmAppendOptions,
  type DmAppendOutcome,
  type DmPage,
  type DmStorage,
  type DmStore,
  type MarkKind,
} from '../dm-store';
import {
  decodeStoredDm,
  encodeEnvelope,
  encodeStoredMessage,
  type DmDraft,
  type DmEnvelope,
} from '../envelope';
import type { MemoryBroker } from './memory-broker';

interface Conversation {
  head: number;
  entries: { seq: number; draft: string }[];
  touched: number;
}

/** The embedded twin of RedisDms: same bounds, same order, publishing through the broker. */
export class MemoryDms implements DmStore {
  private readonly conversationsById = new Map<string, Conversation>();
  /** `${userId} ${conversation}` -> marks */
  private readonly marks = new Map<string, { read: number; delivered: number }>();
  private readonly holders = new Map<string, { userId: number; until: number }>();
  /** `${from}:${cid}` -> what its first try stored, and to whom (see firstRecipient). */
  private readonly cids = new Map<
    string,
    { id: string; seq: number; to: UserRef; expires: number }
  >();
  private readonly storage: DmStorage;

  constructor(
    private readonly broker: MemoryBroker,
    storage: Partial<DmStorage> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.storage = { ...DEFAULT_DM_STORAGE, ...storage };
  }

  async append(draft: DmDraft, options: DmAppendOptions): Promise<DmAppendOutcome> {
    const now = this.now();
    const cidKey = options.cid === undefined ? undefined : `${draft.from.id}:${options.cid}`;
    const previous = cidKey === undefined ? undefined : this.cids.get(cidKey);
    if (previous && previous.expires > now) {
      if (previous.to.id !== draft.to.id) return { status: 'redirected', to: previous.to };
      return { status: 'duplicate', id: previous.id, seq: previous.seq };
    }
    if (cidKey !== undefined && this.broker.unsure(options.firstGeneration)) {
      return { status: 'unsure' };
    }
    if (options.limit && !this.broker.take(options.limit)) return { status: 'rate-limited' };
    let conversation = this.live(draft.conversation);
    if (!conversation) {
      conversation = { head: 0, entries: [], touched: now };
      this.conversationsById.set(draft.conversation, conversation);
    }
    const seq = ++conversation.head;
    const encoded = encodeEnvelope(draft);
    conversation.entries.push({ seq, draft: encoded });
    while (conversation.entries.length > this.storage.limit) conversation.entries.shift();
    conversation.touched = now;
    this.raiseMark(draft.from.id, draft.conversation, 'read', seq);
    this.raiseMark(draft.from.id, draft.conversation, 'delivered', seq);
    if (cidKey !== undefined)
      this.cids.set(cidKey, { id: draft.id, seq, to: draft.to, expires: now + CID_TTL_MS });
    const frame = encodeStoredMessage(seq, encoded);
    this.broker.publish({ kind: 'user', userId: draft.to.id }, frame);
    if (draft.from.id !== draft.to.id)
      this.broker.publish({ kind: 'user', userId: draft.from.id }, frame);
    return { status: 'stored', seq };
  }

  async page(conversation: string, before: number, limit: number): Promise<DmPage> {
    const log = this.live(conversation);
    const older = (log?.entries ?? []).filter((e) => before === 0 || e.seq < before);
    return this.toPage(log, older.slice(Math.max(0, older.length - limit)));
  }

  async since(conversation: string, after: number, limit: number): Promise<DmPage> {
    const log = this.live(conversation);
    return this.toPage(log, (log?.entries ?? []).filter((e) => e.seq > after).slice(0, limit));
  }

  async conversations(userId: number): Promise<ConversationState[]> {
    const out: ConversationState[] = [];
    for (const [id, log] of this.conversationsById) {
      if (!participants(id)?.includes(userId) || !this.live(id)) continue;
      const marks = this.marks.get(`${userId} ${id}`);
      const page = this.toPage(log, log.entries.slice(-1));
      out.push({
        conversation: id,
        head: page.head,
        first: page.first,
        read: marks?.read ?? 0,
        delivered: marks?.delivered ?? 0,
        last: page.messages[0],
      });
    }
    return out.sort((a, b) => (b.last?.ts ?? 0) - (a.last?.ts ?? 0));
  }

  async raise(conversation: string, atLeast: number): Promise<void> {
    let log = this.live(conversation);
    if (!log) {
      log = { head: 0, entries: [], touched: this.now() };
      this.conversationsById.set(conversation, log);
    }
    log.head = Math.max(log.head, atLeast);
  }

  async mark(userId: number, conversation: string, kind: MarkKind, seq: number): Promise<void> {
    this.raiseMark(userId, conversation, kind, seq);
  }

  async active(from: number, limit: number): Promise<ActiveConversations> {
    const now = this.now();
    if (this.storage.activeMs === 0) return { now, conversations: [] };
    const conversations = [...this.conversationsById]
      .filter(([, log]) => log.touched >= Math.max(from, now - this.storage.activeMs))
      .map(([conversation, log]) => ({ conversation, at: log.touched }))
      .sort((a, b) => a.at - b.at)
      .slice(0, limit);
    return { now, conversations };
  }

  async noteHolder(name: string, userId: number): Promise<void> {
    this.holders.set(nameKey(name), { userId, until: this.now() + this.storage.ttlMs });
  }

  async lastHolder(name: string): Promise<number | undefined> {
    const holder = this.holders.get(nameKey(name));
    return holder && holder.until > this.now() ? holder.userId : undefined;
  }

  async firstRecipient(from: number, cid: string): Promise<UserRef | undefined> {
    const previous = this.cids.get(`${from}:${cid}`);
    return previous && previous.expires > this.now() ? previous.to : undefined;
  }

  private raiseMark(userId: number, conversation: string, kind: MarkKind, seq: number): void {
    const key = `${userId} ${conversation}`;
    const marks = this.marks.get(key) ?? { read: 0, delivered: 0 };
    marks[kind] = Math.max(marks[kind], seq);
    this.marks.set(key, marks);
  }

  /** The conversation unless it expired (then it and its marks are forgotten, as in Redis). */
  private live(conversation: string): Conversation | undefined {
    const log = this.conversationsById.get(conversation);
    if (log && log.touched + this.storage.ttlMs <= this.now()) {
      this.conversationsById.delete(conversation);
      for (const key of [...this.marks.keys()]) {
        if (key.endsWith(` ${conversation}`)) this.marks.delete(key);
      }
      return undefined;
    }
    return log;
  }

  private toPage(log: Conversation | undefined, entries: Conversation['entries']): DmPage {
    const head = log?.head ?? 0;
    const messages = entries
      .map((e) => decodeStoredDm(e.seq, e.draft))
      .filter((m): m is DmEnvelope => m !== undefined);
    return { messages, first: log?.entries[0]?.seq ?? head + 1, head };
  }
}
