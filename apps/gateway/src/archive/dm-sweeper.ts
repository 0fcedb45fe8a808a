import type { DmEnvelope } from '../broker/envelope';
import type { ActiveConversations, DmPage } from '../broker/dm-store';
import type { Logger } from '../logger';
import { toArchivedDm, type Archive, type ArchivedDm } from './archive';

/** What the DM sweep reads of the broker (DmStore's methods of the same names). */
export interface ConversationLogs {
  active(from: number, limit: number): Promise<ActiveConversations>;
  page(conversation: string, before: number, limit: number): Promise<DmPage>;
  since(conversation: string, after: number, limit: number): Promise<DmPage>;
}

export interface DmSweeperDeps {
  archive: Archive;
  logger: Logger;
  logs: ConversationLogs;
  /** Messages the sweep wrote that no node had (chat_archive_swept_total). */
  swept(count: number): void;
}

export interface DmSweeperOptions {
  /** Conversations per index read, messages per log read and per archive write. @default 500 */
  batchSize: number;
  /** How far back the index reaches (DM_ACTIVE_MS): a new sweeper looks back this far. */
  horizonMs: number;
}

interface Mark {
  /** The conversation's head at the previous round (undefined: first seen this round). */
  seen: number | undefined;
  /** Archived up to this seq (undefined: not known, read back to `fromTs`). */
  done: number | undefined;
  /** A conversation first listed now: its messages older than this (ms) were swept before. */
  fromTs: number;
}

/** Each listing overlaps the previous one by this much (the broker's clock). */
const LIST_OVERLAP_MS = 1_000;
/** Gateways' clocks (a message's ts) against the broker's (the index): tolerated skew. */
const SKEW_MS = 10_000;
/** The first read back from a conversation's head: usually a round holds a message or two. */
const FIRST_READ = 16;

/**
 * The recovery pass for private messages, run by the sweep lease holder after the rooms: a DM
 * whose sending node died before writing it (the recipient offline, or its node dead too) is
 * still in its conversation's log in Redis, and the broker's index of recently active
 * conversations (DmStore.active) names the conversation.
 *
 * A round lists the conversations active since the previous listing (paged), reads the head of
 * each listed or not yet covered one, and archives what was in the log a round earlier and is
 * missing: for a conversation it already followed, the seqs after the last covered one (read
 * forward); for one newly listed, the messages back to the previous listing's time (read
 * backward from the head). Writes are batched over conversations and skip rows already there
 * (an index probe each), so the normal cost per round is one index read, one head read per
 * active conversation, one log read per conversation that moved and one INSERT per `batchSize`
 * messages. A conversation is forgotten once covered to its head and no longer listed.
 */
export class DmSweeper {
  private readonly marks = new Map<string, Mark>();
  /** The broker's clock at the previous listing (undefined: none since taking the lease). */
  private listedAt: number | undefined;
  private pending: ArchivedDm[] = [];

  constructor(
    private readonly deps: DmSweeperDeps,
    private readonly options: DmSweeperOptions,
  ) {}

  /** This node lost the sweep lease: whatever it followed is stale when it takes it again. */
  reset(): void {
    this.marks.clear();
    this.listedAt = undefined;
    this.pending = [];
  }

  /** One round (the lease is held); a failure leaves the marks where the next round resumes. */
  async sweep(): Promise<void> {
    const listFrom = this.listedAt === undefined ? 0 : this.listedAt - LIST_OVERLAP_MS;
    const { now, listed } = await this.list(listFrom);
    const fromTs =
      (this.listedAt === undefined ? now - this.options.horizonMs : listFrom) - SKEW_MS;
    for (const conversation of listed) {
      if (!this.marks.has(conversation)) {
        this.marks.set(conversation, { seen: undefined, done: undefined, fromTs });
      }
    }
    this.listedAt = now;
    this.pending = [];
    const covered = new Map<string, number>();
    for (const [conversation, mark] of this.marks) {
      const upTo = await this.collect(conversation, mark);
      if (upTo !== undefined) covered.set(conversation, upTo);
      await this.flush(false);
    }
    await this.flush(true);
    for (const [conversation, upTo] of covered) {
      const mark = this.marks.get(conversation);
      if (mark === undefined) continue;
      mark.done = upTo;
      if (mark.seen !== undefined && upTo >= mark.seen && !listed.has(conversation)) {
        this.marks.delete(conversation);
      }
    }
  }

  /** Conversations active since `from`, read in pages; and the broker's clock. */
  private async list(from: number): Promise<{ now: number; listed: Set<string> }> {
    const listed = new Set<string>();
    const { batchSize } = this.options;
    let cursor = from;
    for (;;) {
      const page = await this.deps.logs.active(cursor, batchSize);
      const before = listed.size;
      for (const entry of page.conversations) listed.add(entry.conversation);
      const last = page.conversations.at(-1);
      if (page.conversations.length < batchSize || last === undefined) {
        return { now: page.now, listed };
      }
      // Pages go by time; a full page of one instant (nothing new) moves past that instant.
      cursor = listed.size > before && last.at > cursor ? last.at : last.at + 1;
    }
  }

  /**
   * Queues what `conversation` held a round ago and the archive may lack; resolves to the seq
   * it will be covered to once the queue is written (undefined: nothing to cover this round).
   */
  private async collect(conversation: string, mark: Mark): Promise<number | undefined> {
    const head = await this.deps.logs.page(conversation, 0, 1);
    if (head.head === 0) {
      // Expired or lost with Redis' data: nothing left to read.
      this.marks.delete(conversation);
      return undefined;
    }
    let target = mark.seen;
    mark.seen = head.head;
    if (target === undefined) return undefined;
    if (head.head < target) {
      // The conversation started over (Redis forgot it): read this life back by time.
      target = head.head;
      mark.done = undefined;
    }
    if (mark.done !== undefined && mark.done >= target) return target;
    const messages =
      mark.done === undefined
        ? await this.readBack(conversation, target, mark.fromTs)
        : await this.readForward(conversation, mark.done, target);
    this.pending.push(...messages.map(toArchivedDm));
    return target;
  }

  /** Messages with seq in (after, upTo], oldest first, `batchSize` per read. */
  private async readForward(
    conversation: string,
    after: number,
    upTo: number,
  ): Promise<DmEnvelope[]> {
    const out: DmEnvelope[] = [];
    let next = after;
    while (next < upTo) {
      const page = await this.deps.logs.since(conversation, next, this.options.batchSize);
      out.push(...page.messages.filter((m) => m.seq <= upTo));
      const last = page.messages.at(-1);
      if (last === undefined || page.messages.length < this.options.batchSize) break;
      next = last.seq;
    }
    return out;
  }

  /** Messages with seq up to `upTo` and sent at `fromTs` or later, read back from `upTo`. */
  private async readBack(
    conversation: string,
    upTo: number,
    fromTs: number,
  ): Promise<DmEnvelope[]> {
    const out: DmEnvelope[] = [];
    let before = upTo + 1;
    for (let count = FIRST_READ; ; count = this.options.batchSize) {
      const page = await this.deps.logs.page(conversation, before, count);
      out.unshift(...page.messages.filter((m) => m.ts >= fromTs));
      const oldest = page.messages[0];
      if (oldest === undefined || oldest.ts < fromTs || page.messages.length < count) return out;
      before = oldest.seq;
    }
  }

  /** Writes the queue in batches of `batchSize`; a last short one too when `all`. */
  private async flush(all: boolean): Promise<void> {
    const { batchSize } = this.options;
    while (this.pending.length >= batchSize || (all && this.pending.length > 0)) {
      const batch = this.pending.slice(0, batchSize);
      const written = await this.deps.archive.writeDms(batch);
      this.pending = this.pending.slice(batch.length);
      if (written === 0) continue;
      this.deps.swept(written);
      this.deps.logger.info(
        { written, conversations: new Set(batch.map((m) => m.conversation)).size },
        'archive sweep wrote private messages no node had archived',
      );
    }
  }
}
