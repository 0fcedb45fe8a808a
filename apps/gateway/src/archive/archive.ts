import type { UserRef } from '@chat/protocol';
import type { DmEnvelope, MessageEnvelope } from '../broker/envelope';

/** One room message as the archive keeps it: (room, epoch, seq) names it, as in the room log. */
export interface ArchivedMessage {
  room: string;
  /** The room log's epoch the seq belongs to (see StoredRange.epoch). */
  epoch: string;
  seq: number;
  id: string;
  from: UserRef;
  text: string;
  /** Milliseconds since the epoch, when the gateway accepted the message. */
  ts: number;
}

/**
 * One private message as the archive keeps it: (conversation, seq, id) names it, the id telling
 * apart the lives of a conversation whose seq started over after Redis forgot it.
 */
export interface ArchivedDm {
  conversation: string;
  seq: number;
  id: string;
  from: UserRef;
  to: UserRef;
  text: string;
  ts: number;
}

/** Where a page of a conversation's archive ends: messages before (ts, seq) in that order. */
export interface DmCursor {
  ts: number;
  seq: number;
}

export function toArchivedDm(envelope: DmEnvelope): ArchivedDm {
  const { conversation, seq, id, from, to, text, ts } = envelope;
  return { conversation, seq, id, from, to, text, ts };
}

/** A stored room message as the archive keeps it, under its log's `epoch`. */
export function toArchived(envelope: MessageEnvelope, epoch: string): ArchivedMessage {
  const { room, seq, id, from, text, ts } = envelope;
  return { room, epoch, seq, id, from, text, ts };
}

/** The archive could not be reached or refused the operation; nothing was changed by it. */
export class ArchiveUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`archive unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ArchiveUnavailableError';
  }
}

/**
 * The durable record of room messages (PostgreSQL when DATABASE_URL is set). Writes are
 * idempotent: a message written twice, by one node or several, is kept once under its
 * (room, epoch, seq). Every operation rejects with ArchiveUnavailableError while the database
 * is unreachable; callers keep what they meant to write and try again.
 */
export interface Archive {
  /** Applies the schema migrations this version needs; resolves once the archive is usable. */
  migrate(): Promise<void>;
  /** Stores the messages not stored yet; resolves to how many were new. */
  write(messages: readonly ArchivedMessage[]): Promise<number>;
  /** The newest `limit` messages of `room` in `epoch` with seq below `before`, oldest first. */
  page(room: string, epoch: string, before: number, limit: number): Promise<ArchivedMessage[]>;
  /**
   * The room's epoch that started before `epoch` (the newest one when `epoch` is undefined or
   * unknown to the archive), or undefined when there is none.
   */
  previousEpoch(room: string, epoch?: string): Promise<string | undefined>;
  /** Stores the private messages not stored yet; resolves to how many were new. */
  writeDms(messages: readonly ArchivedDm[]): Promise<number>;
  /** The newest `limit` messages of `conversation` before `cursor`, oldest first. */
  dmPage(conversation: string, cursor: DmCursor, limit: number): Promise<ArchivedDm[]>;
  /** The ts of the newest archived message of `conversation` at `seq` (its latest life's). */
  dmTs(conversation: string, seq: number): Promise<number | undefined>;
  /** How many messages of `room` in `epoch` with seq in (after, upTo] are archived. */
  archivedCount(room: string, epoch: string, after: number, upTo: number): Promise<number>;
  /**
   * True while this node holds the cluster's sweeper lease (taken here when free): one node at
   * a time runs the recovery pass. The lease ends with this node's connection to the archive.
   */
  sweepLease(): Promise<boolean>;
  /** Messages of `room` matching the words of `query` (full-text), newest first. */
  search(room: string, query: string, limit: number): Promise<ArchivedMessage[]>;
  /** Deletes messages (rooms' and private) older than `cutoffMs` (ms since the epoch); resolves to how many. */
  prune(cutoffMs: number): Promise<number>;
  close(): Promise<void>;
}
