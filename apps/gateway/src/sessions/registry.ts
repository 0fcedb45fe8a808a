import type { UserRef } from '@chat/protocol';
import type { ChatSocket } from './socket';

/** A connected client on this node. */
export interface LocalSession {
  readonly socket: ChatSocket;
  readonly user: UserRef;
  /** Public session id: what the session sent is never delivered back to it. */
  readonly sid: string;
  readonly resumeToken: string;
  /** The client's address (see clientAddress); a grace-period name hold records it. */
  readonly address?: string;
  /** The authenticated subject (absent without auth); saved with the resume token. */
  readonly subject?: string;
  /** Takes room messages as `messages` batches (handshake `batch: true`). */
  readonly batch: boolean;
  /** Current room; undefined while in none. */
  room: string | undefined;
  /** The session's events run one at a time, in arrival order, on this chain. */
  queue: Promise<void>;
  /** Tasks waiting on or running in `queue`. */
  queued: number;
  /** Requests received and not yet answered: a client that floods gets refused. */
  inFlight: number;
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  if (!set?.delete(value)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}

/** What a look-up that finds nobody returns: one shared empty set, no allocation per call. */
const NOBODY: ReadonlySet<LocalSession> = new Set();

/**
 * This node's clients, indexed by socket, user, session and room. Only the connection handler
 * changes it, and only under the per-user lock, so its indexes never disagree with Redis about
 * the order of a user's joins and leaves.
 */
export class Registry {
  private readonly bySocket = new Map<string, LocalSession>();
  private readonly byUser = new Map<number, Set<LocalSession>>();
  private readonly bySid = new Map<string, Set<LocalSession>>();
  private readonly byRoom = new Map<string, Set<LocalSession>>();

  add(session: LocalSession): void {
    this.bySocket.set(session.socket.id, session);
    add(this.byUser, session.user.id, session);
    add(this.bySid, session.sid, session);
  }

  /** Removes the session from every index; returns false if it was not registered. */
  delete(session: LocalSession): boolean {
    if (!this.bySocket.delete(session.socket.id)) return false;
    remove(this.byUser, session.user.id, session);
    remove(this.bySid, session.sid, session);
    if (session.room !== undefined) remove(this.byRoom, session.room, session);
    return true;
  }

  enter(session: LocalSession, room: string): void {
    session.room = room;
    add(this.byRoom, room, session);
  }

  /** Returns true when the session was the node's last member of the room. */
  exit(session: LocalSession): boolean {
    const room = session.room;
    session.room = undefined;
    return room !== undefined && remove(this.byRoom, room, session) && !this.byRoom.has(room);
  }

  get(socketId: string): LocalSession | undefined {
    return this.bySocket.get(socketId);
  }

  ofUser(userId: number): ReadonlySet<LocalSession> {
    return this.byUser.get(userId) ?? NOBODY;
  }

  ofSid(sid: string): ReadonlySet<LocalSession> {
    return this.bySid.get(sid) ?? NOBODY;
  }

  inRoom(room: string): ReadonlySet<LocalSession> {
    return this.byRoom.get(room) ?? NOBODY;
  }

  rooms(): IterableIterator<string> {
    return this.byRoom.keys();
  }

  users(): UserRef[] {
    return [...this.byUser.values()].flatMap((set) => {
      const first = set.values().next();
      return first.done ? [] : [first.value.user];
    });
  }

  all(): IterableIterator<LocalSession> {
    return this.bySocket.values();
  }

  get size(): number {
    return this.bySocket.size;
  }
}
