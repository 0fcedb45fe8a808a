import type { LeaveReason, UserRef } from '@chat/protocol';

/** Version of the node-to-node envelope format. A node drops envelopes of another version. */
export const ENVELOPE_VERSION = 1;

interface Base {
  v: typeof ENVELOPE_VERSION;
  /** Node that published the envelope. */
  origin: string;
}

/** A room message. `seq` is assigned by the bus when the message is stored. */
export interface MessageEnvelope extends Base {
  type: 'message';
  seq: number;
  id: string;
  room: string;
  from: UserRef;
  /** Session that sent it: never delivered back to that session, live or replayed. */
  sid: string;
  text: string;
  ts: number;
  /**
   * The sender's retry id, when it gave one (never shown to clients): every node that receives
   * the message keeps its `cid` record, to write it back if the broker loses it (see SentCids).
   */
  cid?: string;
  /**
   * The room log's epoch the broker stored it in ((epoch, seq) is its position), beside the
   * draft like `seq`; undefined when the broker did not say (a message stored before epochs
   * travelled with messages).
   */
  epoch?: string;
}

export type MessageDraft = Omit<MessageEnvelope, 'seq' | 'epoch'>;

export type DmDraft = Omit<DmEnvelope, 'seq'>;

export interface JoinedEnvelope extends Base {
  type: 'joined';
  room: string;
  user: UserRef;
  /** True on the join that makes the room quiet (see quiet-rooms.ts). */
  quiet?: boolean;
}

export interface LeftEnvelope extends Base {
  type: 'left';
  room: string;
  user: UserRef;
  reason: LeaveReason;
  /** With reason 'moved': the room the user moved to, when known. */
  to?: string;
  /** False on the leave that makes the room announced again (see quiet-rooms.ts). */
  quiet?: boolean;
}

/** A private message, stored in its conversation (see DmStore) before it is published. */
export interface DmEnvelope extends Base {
  type: 'dm';
  /** Assigned by the store, like a room message's; travels beside the draft. */
  seq: number;
  /** conversationId(from.id, to.id) */
  conversation: string;
  id: string;
  from: UserRef;
  to: UserRef;
  sid: string;
  text: string;
  ts: number;
  /** The sender's retry id, as for room messages (never shown to clients). */
  cid?: string;
}

/** A node's readiness probe, published to and received from its own node topic. */
export interface CanaryEnvelope extends Base {
  type: 'canary';
  nonce: string;
}

export type Envelope =
  MessageEnvelope | JoinedEnvelope | LeftEnvelope | DmEnvelope | CanaryEnvelope;

export function encodeEnvelope(envelope: Envelope | MessageDraft | DmDraft): string {
  return JSON.stringify(envelope);
}

/**
 * A stored room message on the wire: `<seq> <epoch> <draft json>`. The broker assigns the seq
 * (and the log's epoch) in the step that stores and publishes the draft, and sends them beside
 * the JSON the node wrote instead of editing that JSON. The room log keeps the draft under the
 * seq. A stored DM is `<seq> <draft json>`.
 */
export function encodeStoredMessage(seq: number, draft: string, epoch?: string): string {
  return epoch === undefined ? `${seq} ${draft}` : `${seq} ${epoch} ${draft}`;
}

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptionalFlag = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
const LEAVE_REASONS: ReadonlySet<unknown> = new Set<LeaveReason>([
  'quit',
  'disconnected',
  'moved',
  'node-failure',
]);

function isUser(v: unknown): v is UserRef {
  if (typeof v !== 'object' || v === null) return false;
  const u = v as Fields;
  return isCount(u.id) && isString(u.name);
}

function isValid(e: Fields): boolean {
  if (e.v !== ENVELOPE_VERSION || !isString(e.origin)) return false;
  switch (e.type) {
    case 'message':
      return (
        isCount(e.seq) &&
        isString(e.id) &&
        isString(e.room) &&
        isUser(e.from) &&
        isString(e.sid) &&
        isString(e.text) &&
        isCount(e.ts) &&
        (e.cid === undefined || isString(e.cid))
      );
    case 'joined':
      return isString(e.room) && isUser(e.user) && isOptionalFlag(e.quiet);
    case 'left':
      return (
        isString(e.room) &&
        isUser(e.user) &&
        LEAVE_REASONS.has(e.reason) &&
        (e.to === undefined || isString(e.to)) &&
        isOptionalFlag(e.quiet)
      );
    case 'dm':
      return (
        isCount(e.seq) &&
        isString(e.conversation) &&
        isString(e.id) &&
        isUser(e.from) &&
        isUser(e.to) &&
        isString(e.sid) &&
        isString(e.text) &&
        isCount(e.ts) &&
        (e.cid === undefined || isString(e.cid))
      );
    case 'canary':
      return isString(e.nonce);
    default:
      return false;
  }
}

/**
 * Reads an envelope from the wire. Anything that is not a well-formed envelope of this version
 * yields undefined: callers log and drop it, never throw inside a subscription handler.
 */
export function decodeEnvelope(payload: string): Envelope | undefined {
  const space = payload.indexOf(' ');
  if (space > 0 && isDigit(payload.charCodeAt(0))) {
    const seq = Number(payload.slice(0, space));
    let draft = payload.slice(space + 1);
    let epoch: string | undefined;
    const next = draft.indexOf(' ');
    if (!draft.startsWith('{') && next > 0) {
      epoch = draft.slice(0, next);
      draft = draft.slice(next + 1);
    }
    // One parse, whichever kind of stored draft it is.
    const fields = parseObject(draft);
    if (fields?.type === 'message') return storedMessage(fields, seq, epoch);
    return fields?.type === 'dm' ? storedDm(fields, seq) : undefined;
  }
  const fields = parseObject(payload);
  return fields && isValid(fields) ? (fields as unknown as Envelope) : undefined;
}

/** A room message read back from the log (or a stored-message frame): its draft, seq and epoch. */
export function decodeStoredMessage(
  seq: number,
  draft: string,
  epoch?: string,
): MessageEnvelope | undefined {
  const fields = parseObject(draft);
  return fields?.type === 'message' ? storedMessage(fields, seq, epoch) : undefined;
}

/** A DM read back from its conversation's log (or a stored-DM frame): its draft and seq. */
export function decodeStoredDm(seq: number, draft: string): DmEnvelope | undefined {
  const fields = parseObject(draft);
  return fields?.type === 'dm' ? storedDm(fields, seq) : undefined;
}

function storedMessage(fields: Fields, seq: number, epoch?: string): MessageEnvelope | undefined {
  fields.seq = seq;
  // A draft never carries one (the broker's word is beside it); `delete` only when it does,
  // as deleting a property makes every later access to the object slower.
  if (fields.epoch !== undefined) delete fields.epoch;
  if (epoch !== undefined) fields.epoch = epoch;
  return isValid(fields) ? (fields as unknown as MessageEnvelope) : undefined;
}

function storedDm(fields: Fields, seq: number): DmEnvelope | undefined {
  fields.seq = seq;
  return isValid(fields) ? (fields as unknown as DmEnvelope) : undefined;
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

function parseObject(json: string): Fields | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Fields;
}
