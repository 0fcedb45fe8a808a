import type { UserRef } from '@chat/protocol';
import type {
  BrokerIdentity,
  ClusterState,
  Entered,
  LeftTemplate,
  NameHold,
  ResumeKey,
  ResumeRecord,
  RoomCount,
  SessionRef,
} from '../cluster-state';
import { encodeEnvelope, type JoinedEnvelope } from '../envelope';
import { NameKeys } from '../name-keys';
import { announcement, DEFAULT_QUIET_ABOVE, joinedNotice, leftNotice } from '../quiet-rooms';
import type { MemoryBroker } from './memory-broker';
import { MAX_RESUME_KEYS } from '../resume-keys';

interface Lease<T> {
  value: T;
  expires: number;
}

/** One node's sessions: session key → user and current room. */
type NodeSessions = Map<string, { user: UserRef; room: string | undefined }>;

/** `expires` is undefined until the node's first heartbeat: such a node cannot be reaped. */
interface NodeEntry {
  expires: number | undefined;
  sessions: NodeSessions;
}

/**
 * Cluster state for nodes in one process (the embedded default). Same contract as the Redis
 * implementation, including leases, so the contract tests exercise both the same way.
 */
export class MemoryState implements ClusterState {
  private lastUserId = 0;
  private readonly subjects = new Map<string, number>();
  private readonly names = new Map<string, Lease<UserRef>>();
  /** The names' comparison keys, remembered (every lease round claims every user's again). */
  private readonly nameKeys = new NameKeys();
  private readonly resumes = new Map<string, Lease<ResumeRecord>>();
  private readonly resumeKeys = new Map<string, ResumeKey>();
  /** name key → grace-period hold; an expired hold is dropped when read or replaced. */
  private readonly holds = new Map<string, NameHold>();
  /** user id → sessions online, and the name they are online as (one user, one name) */
  private readonly userSessions = new Map<number, { count: number; name: string }>();
  /** room → user id → { user, sessions } */
  private readonly roomUsers = new Map<string, Map<number, { user: UserRef; sessions: number }>>();
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly marks = new Map<string, Lease<string>>();

  /** @param quietAbove see quiet-rooms.ts */
  constructor(
    private readonly broker: MemoryBroker,
    private readonly now: () => number = Date.now,
    private readonly quietAbove = DEFAULT_QUIET_ABOVE,
  ) {}

  async nextUserId(): Promise<number> {
    return ++this.lastUserId;
  }

  /** The embedded broker never loses data under a live node: nothing to listen for. */
  onBrokerForgot(): void {}

  async raiseUserIds(atLeast: number): Promise<void> {
    this.lastUserId = Math.max(this.lastUserId, atLeast);
  }

  async restoreSubject(subject: string, userId: number): Promise<void> {
    if (!this.subjects.has(subject)) this.subjects.set(subject, userId);
  }

  async lossWitnessed(): Promise<string> {
    return this.broker.generation;
  }

  async checkIn(nodeId: string, mark: string, ttlMs: number): Promise<BrokerIdentity> {
    const previousMark = this.live(this.marks, nodeId);
    this.marks.set(nodeId, { value: mark, expires: this.now() + ttlMs });
    return { epoch: this.broker.generation, previousMark };
  }

  async subjectUserId(subject: string): Promise<number> {
    let id = this.subjects.get(subject);
    if (id === undefined) this.subjects.set(subject, (id = ++this.lastUserId));
    return id;
  }

  async openSession(session: SessionRef, nameTtlMs: number): Promise<boolean> {
    const online = this.userSessions.get(session.user.id);
    if (online && online.name !== session.user.name) return false;
    if (!this.claim(session.user, nameTtlMs)) return false;
    const count = (online?.count ?? 0) + 1;
    this.userSessions.set(session.user.id, { count, name: session.user.name });
    this.node(session.nodeId).sessions.set(session.key, { user: session.user, room: undefined });
    return true;
  }

  async closeSession(
    session: SessionRef,
    left: LeftTemplate,
    announce = true,
    keepNameMs = 0,
  ): Promise<void> {
    const sessions = this.nodes.get(session.nodeId)?.sessions;
    const entry = sessions?.get(session.key);
    if (!entry || !sessions) return;
    sessions.delete(session.key);
    this.end(entry, announce ? left : undefined, keepNameMs);
  }

  async sessionsOn(nodeId: string): Promise<SessionRef[]> {
    const sessions = this.nodes.get(nodeId)?.sessions ?? new Map();
    return [...sessions].map(([key, { user }]) => ({ nodeId, key, user }));
  }

  async enterRoom(
    session: SessionRef,
    joined: JoinedEnvelope,
    left: LeftTemplate,
    announce = true,
  ): Promise<Entered> {
    const entry = this.nodes.get(session.nodeId)?.sessions.get(session.key);
    if (!entry) return { first: false, members: 0 };
    const room = joined.room;
    if (entry.room === room) return { first: false, members: this.roomUsers.get(room)?.size ?? 0 };
    if (entry.room !== undefined) this.leave(entry.user, entry.room, left);
    entry.room = room;
    let users = this.roomUsers.get(room);
    if (!users) this.roomUsers.set(room, (users = new Map()));
    const count = users.get(session.user.id);
    if (count) {
      count.sessions++;
      return { first: false, members: users.size };
    }
    users.set(session.user.id, { user: session.user, sessions: 1 });
    const announced = announcement('joined', users.size, this.quietAbove);
    if (announce && announced !== 'none') {
      this.broker.publish({ kind: 'room', room }, encodeEnvelope(joinedNotice(joined, announced)));
    }
    return { first: true, members: users.size };
  }

  async exitRoom(session: SessionRef, left: LeftTemplate): Promise<string | undefined> {
    const entry = this.nodes.get(session.nodeId)?.sessions.get(session.key);
    const room = entry?.room;
    if (!entry || room === undefined) return undefined;
    entry.room = undefined;
    this.leave(entry.user, room, left);
    return room;
  }

  async renewNames(users: UserRef[], ttlMs: number): Promise<void> {
    for (const user of users) this.claim(user, ttlMs);
  }

  async findUser(name: string): Promise<UserRef | undefined> {
    return this.live(this.names, this.nameKeys.of(name));
  }

  async settled(): Promise<void> {
    // The embedded broker never loses data under a live node: nothing to wait for.
  }

  async holdName(name: string, hold: NameHold): Promise<void> {
    this.holds.set(this.nameKeys.of(name), hold);
  }

  async nameHold(name: string): Promise<NameHold | undefined> {
    const key = this.nameKeys.of(name);
    const hold = this.holds.get(key);
    if (hold && hold.until > this.now()) return hold;
    this.holds.delete(key);
    return undefined;
  }

  async saveResume(token: string, record: ResumeRecord, ttlMs: number): Promise<void> {
    this.resumes.set(token, { value: record, expires: this.now() + ttlMs });
  }

  async loadResume(token: string): Promise<ResumeRecord | undefined> {
    return this.live(this.resumes, token);
  }

  async shareResumeKeys(keys: readonly ResumeKey[], keepMs: number): Promise<ResumeKey[]> {
    for (const key of keys) {
      const known = this.resumeKeys.get(key.id);
      if (!known || known.seen < key.seen) this.resumeKeys.set(key.id, { ...key });
    }
    const oldest = this.now() - keepMs;
    const newest = [...this.resumeKeys.values()].sort((a, b) => b.seen - a.seen);
    newest.forEach((key, i) => {
      if (key.seen < oldest || i >= MAX_RESUME_KEYS) this.resumeKeys.delete(key.id);
    });
    return [...this.resumeKeys.values()].map((key) => ({ ...key }));
  }

  async members(room: string): Promise<UserRef[]> {
    return [...(this.roomUsers.get(room)?.values() ?? [])].map((entry) => entry.user);
  }

  async rooms(): Promise<RoomCount[]> {
    return [...this.roomUsers]
      .map(([room, users]) => ({ room, members: users.size }))
      .filter((r) => r.members > 0)
      .sort((a, b) => b.members - a.members || a.room.localeCompare(b.room));
  }

  async heartbeat(nodeId: string, ttlMs: number): Promise<boolean> {
    const node = this.nodes.get(nodeId);
    const lapsed = node?.expires === undefined || node.expires <= this.now();
    this.node(nodeId).expires = this.now() + ttlMs;
    return lapsed;
  }

  async expiredNodes(): Promise<string[]> {
    const now = this.now();
    return [...this.nodes]
      .filter(([, node]) => node.expires !== undefined && node.expires <= now)
      .map(([id]) => id);
  }

  async reapNode(
    deadNodeId: string,
    _reaperId: string,
    leftFor: (user: UserRef) => LeftTemplate,
    keepNameMs = 0,
  ): Promise<number | undefined> {
    const node = this.nodes.get(deadNodeId);
    if (node?.expires === undefined || node.expires > this.now()) return undefined;
    this.nodes.delete(deadNodeId);
    for (const entry of node.sessions.values()) this.end(entry, leftFor(entry.user), keepNameMs);
    return node.sessions.size;
  }

  async leaveCluster(nodeId: string): Promise<void> {
    this.nodes.delete(nodeId);
  }

  async close(): Promise<void> {}

  /** A session is gone: leave its room, and release the name after the user's last one. */
  /** Ends a session's presence; `left` undefined: announce nothing. */
  private end(
    entry: { user: UserRef; room: string | undefined },
    left?: LeftTemplate,
    keepNameMs = 0,
  ): void {
    if (entry.room !== undefined) this.leave(entry.user, entry.room, left);
    const online = this.userSessions.get(entry.user.id);
    if (online && online.count > 1) {
      online.count--;
      return;
    }
    this.userSessions.delete(entry.user.id);
    const key = this.nameKeys.of(entry.user.name);
    const claim = this.names.get(key);
    if (claim?.value.id !== entry.user.id) return;
    if (keepNameMs > 0) claim.expires = this.now() + keepNameMs;
    else this.names.delete(key);
  }

  private leave(user: UserRef, room: string, left: LeftTemplate | undefined): void {
    const users = this.roomUsers.get(room);
    const count = users?.get(user.id);
    if (!users || !count || --count.sessions > 0) return;
    users.delete(user.id);
    if (users.size === 0) this.roomUsers.delete(room);
    const announced = announcement('left', users.size, this.quietAbove);
    if (left && announced !== 'none') {
      const notice = leftNotice({ ...left, room }, announced);
      this.broker.publish({ kind: 'room', room }, encodeEnvelope(notice));
    }
  }

  private claim(user: UserRef, ttlMs: number): boolean {
    const key = this.nameKeys.of(user.name);
    const holder = this.live(this.names, key);
    if (holder && holder.id !== user.id) return false;
    this.names.set(key, { value: user, expires: this.now() + ttlMs });
    return true;
  }

  private live<T>(map: Map<string, Lease<T>>, key: string): T | undefined {
    const lease = map.get(key);
    if (!lease) return undefined;
    if (lease.expires > this.now()) return lease.value;
    map.delete(key);
    return undefined;
  }

  private node(nodeId: string): NodeEntry {
    let node = this.nodes.get(nodeId);
    if (!node) this.nodes.set(nodeId, (node = { expires: undefined, sessions: new Map() }));
    return node;
  }
}
