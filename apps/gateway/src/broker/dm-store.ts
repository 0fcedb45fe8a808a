import type { UserRef } from '@chat/protocol';
import type { RateLimit } from './bus';
import type { DmDraft, DmEnvelope } from './envelope';

/**
 * Private conversations, kept by the broker: one log per pair of user ids, positions (seq)
 * assigned in the same atomic step that stores a message and publishes it to both users' topics
 * (so publish order is seq order, as for rooms). A conversation is named by its two user ids,
 * never by names: user ids are never reused, so whoever later holds a name cannot read the
 * conversations of an earlier holder.
 *
 * Bounds: at most `limit` messages per conversation (oldest go first), and every key of a
 * conversation (and a user's index of them) expires `ttlMs` after its last message.
 */
export interface DmStore {
  append(draft: DmDraft, options: DmAppendOptions): Promise<DmAppendOutcome>;
  /** The newest `limit` messages with seq < `before` (0: the newest), ascending. */
  page(conversation: string, before: number, limit: number): Promise<DmPage>;
  /** Up to `limit` messages with seq > `after`, ascending. */
  since(conversation: string, after: number, limit: number): Promise<DmPage>;
  /** The user's conversations with their heads and the user's marks, most recent first. */
  conversations(userId: number): Promise<ConversationState[]>;
  /** Raises the user's `read` or `delivered` mark in a conversation to `seq` (never lowers it). */
  mark(userId: number, conversation: string, kind: MarkKind, seq: number): Promise<void>;
  /** Records `userId` as the latest holder of `name` (kept `ttlMs`): DMs to the name offline reach them. */
  noteHolder(name: string, userId: number): Promise<void>;
  /** The user id that last held `name` within the retention period. */
  lastHolder(name: string): Promise<number | undefined>;
  /**
   * The user the sender's DM with retry id `cid` was first addressed to (recorded by `append`),
   * if a try of it was made: a retry goes there, even if the name changed hands meanwhile.
   */
  firstRecipient(from: number, cid: string): Promise<UserRef | undefined>;
  /**
   * Raises a conversation's seq counter to `atLeast` (never lowers it): after the broker lost
   * data, positions a node's sessions were given are never given to other messages.
   */
  raise(conversation: string, atLeast: number): Promise<void>;
  /**
   * Conversations with a message stored at or after `from` (ms, the broker's clock), oldest
   * activity first, at most `limit`, and the broker's clock now: what the archive's recovery
   * sweep looks at. Only kept while `DmStorage.activeMs` > 0, for that long after the last
   * message (an empty list otherwise).
   */
  active(from: number, limit: number): Promise<ActiveConversations>;
}

export interface ActiveConversations {
  /** The broker's clock (ms) when it answered. */
  now: number;
  /** Each with the time (ms, the broker's clock) of its latest message, ascending. */
  conversations: { conversation: string; at: number }[];
}

export type MarkKind = 'read' | 'delivered';

export interface DmAppendOptions {
  /**
   * Client retry id, unique per sender: a second append with it is a no-op. The first try's
   * recipient is recorded with it (see firstRecipient).
   */
  cid?: string;
  limit?: RateLimit;
  /** See AppendOptions.firstGeneration. */
  firstGeneration?: string;
}

export type DmAppendOutcome =
  | { status: 'stored'; seq: number }
  | { status: 'duplicate'; id: string; seq: number }
  | { status: 'rate-limited' }
  /** See AppendOutcome 'unsure'. */
  | { status: 'unsure' }
  /**
   * Nothing stored: an earlier try with this `cid` was addressed to `to` (another user than the
   * draft's): the retry is that DM, and goes there.
   */
  | { status: 'redirected'; to: UserRef };

export interface DmPage {
  messages: DmEnvelope[];
  /** Lowest seq still stored (head + 1 when none is). */
  first: number;
  /** Highest seq assigned (0: none). */
  head: number;
}

export interface ConversationState {
  conversation: string;
  head: number;
  first: number;
  /** Highest seq this user has read (see DmsResult) and been delivered. 0: none. */
  read: number;
  delivered: number;
  /** The newest stored message (names the other participant), if any is left. */
  last: DmEnvelope | undefined;
}

/** @default 1_000 messages per conversation, kept 7 days after the last; no activity index. */
export interface DmStorage {
  limit: number;
  ttlMs: number;
  /**
   * How long a conversation stays in the index of recently active ones (`active`) after its
   * last message; 0 keeps no index (no archive to sweep for). @default 0
   */
  activeMs: number;
}

export const DEFAULT_DM_STORAGE: DmStorage = { limit: 1_000, ttlMs: 604_800_000, activeMs: 0 };

/**
 * With an archive, how long the index of recently active conversations keeps one: the archive's
 * recovery sweep looks this far back when a node takes it over.
 */
export const DM_ACTIVE_MS = 3_600_000;

/** The conversation of two users: the same whichever of them names it. */
export function conversationId(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** The two user ids of a conversation id, or undefined for anything else. */
export function participants(conversation: string): [number, number] | undefined {
  const match = /^(\d{1,16})-(\d{1,16})$/.exec(conversation);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2])];
}

/** How a recorded first recipient is kept: `<id>:<name>`. */
export function encodeRecipient(to: UserRef): string {
  return `${to.id}:${to.name}`;
}

/** The recipient `encodeRecipient` wrote; undefined for anything else. */
export function decodeRecipient(value: string): UserRef | undefined {
  const colon = value.indexOf(':');
  const id = Number(value.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(id)) return undefined;
  return { id, name: value.slice(colon + 1) };
}
