import type { ChatError } from './errors';

/**
 * A user as others see them. `id` is unique in the cluster for good (never handed to another
 * user, even after the broker lost its data; on Redis a safe integer of 16 digits, which may
 * grow by more than one between users); `name` among online users.
 */
export interface UserRef {
  id: number;
  name: string;
}

/**
 * Socket.IO handshake `auth` payload. Every field is optional: an empty handshake joins
 * `lobby` as `User <id>` and receives the recent history.
 */
export interface Handshake {
  /** Protocol version the client speaks. @default PROTOCOL_VERSION */
  v?: number;
  /** Display name to claim; unique among online users, case-insensitively. */
  name?: string;
  /** JWT, required when the cluster runs with authentication. */
  token?: string;
  /** `resumeToken` from an earlier `welcome`: come back as the same user (same id and name). */
  resume?: string;
  /** Room to join first. @default 'lobby' */
  room?: string;
  /** Last sequence number seen in `room`: replay what was missed instead of recent history. */
  since?: number;
  /**
   * The room log's epoch that `since` belongs to (`synced.epoch`). A `since` from another epoch
   * is not trusted: the answer is `synced.restarted`. Optional: without it `since` is taken as
   * belonging to the room's current log.
   */
  epoch?: string;
  /**
   * Receive room messages as `messages` batches (arrays, in seq order) instead of one
   * `message` event each: fewer frames under load. @default false
   */
  batch?: boolean;
  /**
   * Last seq seen per conversation (`DirectMessage.conversation` -> `seq`), at most
   * MAX_DM_POSITIONS entries: on connect the gateway sends each of the user's conversations
   * from there (nothing missed, nothing twice). Conversations not named start after the user's
   * delivered mark (what no session of the user has been given).
   */
  dms?: Record<string, number>;
}

export interface Welcome {
  v: number;
  user: UserRef;
  /** Id of the gateway node holding this connection. */
  node: string;
  room: string;
  /** Secret to present as `auth.resume` when reconnecting, to any node. */
  resumeToken: string;
  /**
   * The broker's data generation as this node knows it: it changes whenever the cluster finds
   * that Redis lost or rolled back data. A retried `send` or `dm` carries the generation of its
   * first attempt (`SendRequest.generation`). Optional (added in protocol 1 compatibly).
   */
  generation?: string;
}

export interface ChatMessage {
  /** Unique message id (also in the sender's ack). */
  id: string;
  room: string;
  /** Position in the room, assigned by the cluster: strictly increasing, no reuse. */
  seq: number;
  from: UserRef;
  text: string;
  /** Milliseconds since the epoch, when the gateway accepted the message. */
  ts: number;
  /** Present and true when replayed from history rather than delivered live. */
  history?: true;
}

export interface DirectMessage {
  id: string;
  from: UserRef;
  to: UserRef;
  text: string;
  ts: number;
  /**
   * The conversation of the two users (`<lower id>-<higher id>`), kept by the cluster. Added in
   * v1 without a version change: older clients ignore it.
   */
  conversation: string;
  /** Position in the conversation, assigned when it was stored: strictly increasing. */
  seq: number;
  /** Present and true when delivered on connect (sent while this user was offline). */
  offline?: true;
}

export type LeaveReason = 'quit' | 'disconnected' | 'moved' | 'node-failure';

export interface PresenceNotice {
  room: string;
  user: UserRef;
  /**
   * Present only on the notice that changes how the room is announced. `true`: with this join
   * the room has more members than the gateway's `PRESENCE_QUIET_ABOVE` (default 200); from now
   * on joins and leaves in it are not announced (`who` still lists every member). `false`: with
   * this leave it is back at that size, and joins and leaves are announced again. Added in v1
   * without a version change: older clients ignore it.
   */
  quiet?: boolean;
}

export interface LeftNotice extends PresenceNotice {
  reason: LeaveReason;
  /**
   * With `reason: 'moved'`, the room they moved to, when the gateway tells (optional: clients
   * must read a move without it as "moved to another room").
   */
  to?: string;
}

/** Ends the history or replay that follows a join: from here on, messages are live. */
export interface Synced {
  room: string;
  /** Highest sequence number of the room the client has now been given (0: empty room). */
  seq: number;
  /** How many messages were replayed or sent as history. */
  replayed: number;
  /**
   * Positions after `since` (up to `seq`) that cannot be replayed: older than the history
   * window, or lost by the broker (holes in the log after Redis lost or rolled back data).
   */
  lost: number;
  /**
   * The room log's epoch: with `seq` it names a position, and no position is ever given to two
   * different messages. Send it back as `epoch` with `since`. Absent while the room has no log.
   */
  epoch?: string;
  /**
   * Present when `since` cannot be placed in the room's log: it belongs to another epoch, or it
   * is beyond the room's last seq (the log expired after inactivity, or the broker lost it with
   * nobody online to restore it). The replay is the whole current log; whatever came after
   * `since` in the old one cannot be told. Resume bookkeeping restarts at `seq` in `epoch`.
   */
  restarted?: true;
  /**
   * Present (with `replayed` and `lost` 0) on a `synced` the gateway sends unasked to the room's
   * live members when the room's log starts a new epoch (Redis lost or rolled back data): the
   * messages that follow are in `epoch`, after `seq`. Resume bookkeeping restarts at `seq` in
   * `epoch`; the room, and any join under way, are unchanged. Also sent when members were told
   * the log has no epoch (a new room, or a log lost whole) and it gets its first: at `seq` 0 (a
   * new room) nothing was lost. Added in v1 without a version change: an older client reads it
   * as a `synced` of its room with another epoch.
   */
  renewed?: true;
  /**
   * Present when the room has more members than the gateway's `PRESENCE_QUIET_ABOVE`: joins and
   * leaves in it are not announced (`who` lists its members) until a `left` with `quiet: false`.
   */
  quiet?: true;
}

/** Messages of `room` that were lost to this client and cannot be replayed. */
export interface Gap {
  room: string;
  /** First and last lost sequence numbers, inclusive. */
  from: number;
  to: number;
}

export interface Draining {
  /** The node is shutting down; reconnect (any node) after about this long. */
  retryInMs: number;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ChatError };

export interface SendRequest {
  text: string;
  /** Must be the current room when given. */
  room?: string;
  /**
   * Client-chosen id (1-64 characters, unique per sender) that makes a retry safe: a send whose
   * `cid` the cluster has already stored in the last 10 minutes is not stored again, and its ack
   * repeats the first one's `id` and `seq`.
   */
  cid?: string;
  /**
   * On a retry (with its `cid`): the `welcome.generation` the client knew when it first tried
   * this send and did not learn its outcome; first attempts omit it. A retry whose `cid` has no
   * record and whose generation is not the broker's current one is refused with RECORDS_LOST
   * (not retryable, nothing stored): the broker lost its records since, so whether the first
   * attempt was stored cannot be told. Optional (added in protocol 1 compatibly).
   */
  generation?: string;
}
export interface SendResult {
  id: string;
  seq: number;
  /** The room log's epoch (see Synced.epoch): (epoch, seq) is the message's position. */
  epoch?: string;
}

export interface JoinRequest {
  room: string;
  /** Last sequence number seen in `room`: replay from there instead of recent history. */
  since?: number;
  /** The epoch `since` belongs to (see Handshake.epoch). */
  epoch?: string;
}
export interface JoinResult {
  room: string;
  seq: number;
  /** The room log's epoch (see Synced.epoch); absent while the room has no log. */
  epoch?: string;
}

export interface DmRequest {
  to: string;
  text: string;
  /** Like `SendRequest.cid`: a retried DM with the same `cid` is not delivered twice. */
  cid?: string;
  /** Like `SendRequest.generation`. */
  generation?: string;
}
export interface DmResult {
  id: string;
  to: UserRef;
  /** See DirectMessage.conversation and seq. */
  conversation: string;
  seq: number;
}

/** A page of one of the caller's conversations, newest last. */
export interface HistoryRequest {
  /** The other participant's name (online, or the last user who held it). */
  with: string;
  /** Only messages with a lower seq (page backwards). @default the newest */
  before?: number;
  /**
   * With `before`: the `ts` of the message at `before` (the first of the previous page). Pages
   * from the archive need it once they reach a conversation that started over (Redis forgot
   * it: its seqs began again at 1). @default the newest archived message at `before`
   */
  beforeTs?: number;
  /** @default 50, at most 200 */
  limit?: number;
}
export interface HistoryResult {
  conversation: string;
  with: UserRef;
  /** Ascending by seq. */
  messages: DirectMessage[];
  /** Lowest seq still stored: earlier messages are gone (over DM_HISTORY_LIMIT, or expired). */
  first: number;
  /** Highest seq of the conversation (0: none). */
  head: number;
  /**
   * Present when the cluster keeps an archive (DATABASE_URL): true when earlier messages exist,
   * from the Redis window or the archive: ask again with `before` and `beforeTs` = the first
   * message's seq and ts. Archived pages are in send time order (ts, then seq).
   */
  more?: boolean;
}

/**
 * A page of a room's messages before a position, oldest first: from the room's log in Redis
 * while it still holds them, from the archive (PostgreSQL, when the cluster has one) beyond it,
 * with the same shape and positions as live messages. Members of the room only.
 */
export interface RoomHistoryRequest {
  room: string;
  /** Only messages with a lower seq (page backwards). @default the newest */
  before?: number;
  /**
   * The epoch `before` belongs to (`RoomHistoryResult.epoch`, `synced.epoch`). @default the
   * room's current log
   */
  epoch?: string;
  /** @default 50, at most 200 */
  limit?: number;
}
export interface RoomHistoryResult {
  room: string;
  /**
   * The epoch of every message of this page (a page never spans two). Absent when the room has
   * neither a log nor archived messages.
   */
  epoch?: string;
  /** Ascending by seq, each with `history: true`. */
  messages: ChatMessage[];
  /**
   * True when earlier messages exist: ask again with `before` = the first message's seq and this
   * `epoch` (an empty page with `more` moves on to the room's previous epoch).
   */
  more: boolean;
}

/** The room's archived messages that match words, newest first. Members of the room only. */
export interface SearchRequest {
  /** @default the current room */
  room?: string;
  /** Words to find (PostgreSQL web-search syntax: `"a phrase"`, `-word`, `or`); 1-200 characters. */
  q: string;
  /** @default 20, at most 100 */
  limit?: number;
}
export interface SearchResult {
  room: string;
  /** Newest first, each with `history: true`. */
  messages: ChatMessage[];
}

export type DmsRequest = Record<string, never>;
export interface ConversationSummary {
  conversation: string;
  with: UserRef;
  /** Highest seq of the conversation. */
  seq: number;
  /** Messages from the other user not read yet (reading: fetching `history`, or replying). */
  unread: number;
  /** Milliseconds since the epoch of the last message. */
  ts: number;
}
export interface DmsResult {
  /** Most recent first. */
  conversations: ConversationSummary[];
}

export interface WhoRequest {
  /** @default the current room */
  room?: string;
}
export interface WhoResult {
  room: string;
  members: UserRef[];
}

export type RoomsRequest = Record<string, never>;
export interface RoomsResult {
  rooms: { room: string; members: number }[];
}

export interface ClientToServerEvents {
  send: (req: SendRequest, ack: (res: Ack<SendResult>) => void) => void;
  join: (req: JoinRequest, ack: (res: Ack<JoinResult>) => void) => void;
  dm: (req: DmRequest, ack: (res: Ack<DmResult>) => void) => void;
  who: (req: WhoRequest, ack: (res: Ack<WhoResult>) => void) => void;
  rooms: (req: RoomsRequest, ack: (res: Ack<RoomsResult>) => void) => void;
  /** `{ with }`: a conversation's page (HistoryResult); `{ room }`: a room's (RoomHistoryResult). */
  history: (
    req: HistoryRequest | RoomHistoryRequest,
    ack: (res: Ack<HistoryResult | RoomHistoryResult>) => void,
  ) => void;
  search: (req: SearchRequest, ack: (res: Ack<SearchResult>) => void) => void;
  dms: (req: DmsRequest, ack: (res: Ack<DmsResult>) => void) => void;
}

export interface ServerToClientEvents {
  welcome: (welcome: Welcome) => void;
  message: (message: ChatMessage) => void;
  /** Room messages in seq order, for clients that asked for batches (`auth.batch`). */
  messages: (messages: ChatMessage[]) => void;
  dm: (message: DirectMessage) => void;
  joined: (notice: PresenceNotice) => void;
  left: (notice: LeftNotice) => void;
  synced: (synced: Synced) => void;
  gap: (gap: Gap) => void;
  draining: (draining: Draining) => void;
  /**
   * The broker's data generation changed (it lost or rolled back data) while connected: the
   * `welcome.generation` to use from now on. Added in protocol 1 compatibly.
   */
  generation: (notice: { generation: string }) => void;
  /** An event that carried no ack callback was refused. */
  error: (error: ChatError & { event?: string }) => void;
}

export type ClientEventName = keyof ClientToServerEvents;
export const CLIENT_EVENTS: readonly ClientEventName[] = [
  'send',
  'join',
  'dm',
  'who',
  'rooms',
  'history',
  'dms',
  'search',
];
