import type { UserRef } from '@chat/protocol';
import type { JoinedEnvelope, LeftEnvelope } from './envelope';

/** One connection of a user, held by one node. `key` is unique within the node. */
export interface SessionRef {
  nodeId: string;
  key: string;
  user: UserRef;
  /**
   * The room this node last put the session in ('' for none), a hint for enterRoom: a state
   * that checks the session's real room in the same step (Redis) starts from it instead of
   * reading it first. A wrong hint costs a retry, never a wrong move.
   */
  room?: string;
}

/** What a `resumeToken` stands for: the same user, and the same session for no-self-echo. */
export interface ResumeRecord {
  user: UserRef;
  sid: string;
  /**
   * The authenticated subject the session belongs to (absent without auth): only a token for
   * the same subject may resume it, so a name claim can never take over someone's session.
   */
  subject?: string;
  /** The connection that last held the token: a resume takes over from it. */
  session?: { nodeId: string; key: string };
}

/** A key resume tokens are signed with (see ResumeTokens); `seen`: when its node was last alive (ms). */
export interface ResumeKey {
  id: string;
  secret: string;
  seen: number;
}

/**
 * A name whose holder lost its connection and is waiting out its grace period: a newcomer
 * refused that name is told when it frees up, and whether it looks like the holder itself.
 */
export interface NameHold {
  userId: number;
  /** The client address of the lost connection. */
  address: string;
  /** When the grace period ends, in ms since the epoch. */
  until: number;
}

/** A `left` envelope before the room is known: the state completes it with the room left. */
export type LeftTemplate = Omit<LeftEnvelope, 'room'>;

/** A check-in that opens the settle window when it finds a loss (see BrokerFence). */
export interface SettleOptions {
  /** The mark this node wrote at its previous check-in. */
  expected: string;
  /** How long the window stays open. */
  settleMs: number;
}

/** What a node's check-in found (see ClusterState.checkIn). */
export interface BrokerIdentity {
  /** The cluster's epoch: the same for the life of the broker's data. */
  epoch: string;
  /** What the node's mark held before this check-in (undefined: nothing). */
  previousMark: string | undefined;
  /**
   * Why this check-in handled a possible loss its marks could not show (e.g. the Redis master
   * changed: see BrokerFence.suspect); the node re-asserts what it owns as after a loss found.
   */
  suspected?: string;
}

/** What entering a room did (see ClusterState.enterRoom). */
export interface Entered {
  first: boolean;
  members: number;
}

export interface RoomCount {
  room: string;
  members: number;
}

/**
 * Everything nodes share besides the message flow: user ids, names, resume tokens and presence.
 *
 * Presence is counted per user and room across all nodes, so `joined` is published only for a
 * user's first session in a room and `left` only after their last; both are published in the
 * same atomic step that changes the count, so two nodes can never both announce (or both skip)
 * the same transition. A node holds a lease (`heartbeat`); when it lapses, exactly one survivor
 * wins `reapNode` and closes the dead node's sessions as if they had disconnected.
 */
export interface ClusterState {
  /**
   * A cluster-wide unique user id. Refused (BrokerSettlingError, nothing changed) when the
   * broker lost or rolled back data since this node last checked in.
   */
  nextUserId(): Promise<number>;
  /** `listener` runs when a write finds the broker lost data this node has not checked in since. */
  onBrokerForgot(listener: () => void): void;
  /** No user id up to `atLeast` is handed out again (ids held by online users, after a reset). */
  raiseUserIds(atLeast: number): Promise<void>;
  /** Gives `subject` its user id back if the broker forgot it (never changes an existing one). */
  restoreSubject(subject: string, userId: number): Promise<void>;
  /**
   * The broker's identity: the cluster's epoch (created on first use), and this node's mark,
   * replaced by `mark` (kept `ttlMs`). Another epoch than before, or another mark than the node
   * last wrote, means the broker lost or rolled back its data; with `settle`, finding that also
   * opens the settle window and raises the user-id counter (see BrokerFence).
   */
  checkIn(
    nodeId: string,
    mark: string,
    ttlMs: number,
    settle?: SettleOptions,
  ): Promise<BrokerIdentity>;
  /**
   * A loss found without a check-in (see LOSS_WITNESSED): starts a new generation of the broker's
   * data, so every room log starts a new epoch at its next append, and opens the settle window
   * for `settleMs` (`witness` names who found it). Resolves to the new cluster epoch. The
   * embedded broker never loses data: there it changes nothing.
   */
  lossWitnessed(witness: string, settleMs: number): Promise<string>;
  /** The user id of an authenticated subject: the same for every session of that subject. */
  subjectUserId(subject: string): Promise<number>;
  /**
   * Opens a session and claims the user's name (case-insensitively) for `nameTtlMs`, renewing
   * the user's own claim. Resolves false, changing nothing, when another user holds the name,
   * or when this user is online under another name (one user, one name: an authenticated
   * subject cannot appear as two people).
   */
  openSession(session: SessionRef, nameTtlMs: number): Promise<boolean>;
  /**
   * Closes a session: leaves its room (publishing `left`, completed with the room, when it was
   * the user's last session there, unless `announce` is false) and releases the name after the
   * user's last session anywhere. With `keepNameMs`, the name stays claimed that much longer
   * instead (a session ended before its grace period was over: its user may still come back).
   */
  closeSession(
    session: SessionRef,
    left: LeftTemplate,
    announce?: boolean,
    keepNameMs?: number,
  ): Promise<void>;
  /**
   * The sessions the broker has on record for `nodeId`. After a rollback it may list sessions
   * that ended since; their node closes them without announcing (`closeSession(.., false)`).
   */
  sessionsOn(nodeId: string): Promise<SessionRef[]>;
  /**
   * Moves the session into `joined.room`, leaving its current room first (announced with `left`
   * as for exitRoom). `first` when it was the user's first session in the new room; then
   * `joined` is published, unless `announce` is false (a node restoring lost state) or the room
   * is quiet (see quiet-rooms.ts: the state's `quietAbove`). `members`: the room's users now.
   */
  enterRoom(
    session: SessionRef,
    joined: JoinedEnvelope,
    left: LeftTemplate,
    announce?: boolean,
  ): Promise<Entered>;
  /**
   * Leaves the session's current room; `left` (completed with the room) is published when it was
   * the user's last session there. Resolves to the room left, if any.
   */
  exitRoom(session: SessionRef, left: LeftTemplate): Promise<string | undefined>;
  /** Extends the name leases of users with sessions on this node (re-claiming lapsed ones). */
  renewNames(users: UserRef[], ttlMs: number): Promise<void>;
  /** The online user holding `name` (case-insensitively). */
  findUser(name: string): Promise<UserRef | undefined>;
  /**
   * Rejects with BrokerSettlingError while the broker may have lost data that live nodes have
   * not written back yet (their users' names and sessions among it): this node has not checked
   * in since a loss (it checks in at once), the settle window after one is open, or this process
   * has just started (one Redis and Sentinel, as for appends; see BrokerFence). A name not found meanwhile may be back in a moment. The
   * embedded broker never loses data: it resolves.
   */
  settled(): Promise<void>;
  /** Records a grace-period hold on `name` until `hold.until` (best effort, advisory only). */
  holdName(name: string, hold: NameHold): Promise<void>;
  /** The current hold on `name` (case-insensitively), if its grace period has not ended. */
  nameHold(name: string): Promise<NameHold | undefined>;
  saveResume(token: string, record: ResumeRecord, ttlMs: number): Promise<void>;
  loadResume(token: string): Promise<ResumeRecord | undefined>;
  /**
   * Adds `keys` to the cluster's resume keys (a later `seen` wins), drops those not seen for
   * `keepMs` (and all but the newest MAX_RESUME_KEYS), and resolves to every key it holds.
   */
  shareResumeKeys(keys: readonly ResumeKey[], keepMs: number): Promise<ResumeKey[]>;
  members(room: string): Promise<UserRef[]>;
  /** Rooms with at least one member online, most populated first. */
  rooms(): Promise<RoomCount[]>;
  /** Renews this node's lease; resolves true when the lease had lapsed or never existed. */
  heartbeat(nodeId: string, ttlMs: number): Promise<boolean>;
  /** Nodes whose lease has lapsed and that nobody has reaped yet. */
  expiredNodes(): Promise<string[]>;
  /**
   * Closes every session of a dead node, once cluster-wide: resolves to the number of sessions
   * closed, or undefined when another node holds the reaping lock. Each user keeps its name
   * `keepNameMs` longer (its grace period: its client may not have noticed yet).
   */
  reapNode(
    deadNodeId: string,
    reaperId: string,
    leftFor: (user: UserRef) => LeftTemplate,
    keepNameMs?: number,
  ): Promise<number | undefined>;
  /** Withdraws this node's lease after it has closed its sessions (graceful shutdown). */
  leaveCluster(nodeId: string): Promise<void>;
  close(): Promise<void>;
}
