import { nameKey, type UserRef } from '@chat/protocol';
import type { Redis } from 'ioredis';
import { BusUnavailableError } from '../bus/bus';
import type { LuaScript } from '../bus/redis-scripts';
import type { JoinedEnvelope } from '../bus/envelope';
import type {
  ClusterState,
  LeftTemplate,
  ResumeRecord,
  RoomCount,
  SessionRef,
} from './cluster-state';
import {
  CLAIM_NAME,
  ENTER_ROOM,
  EXIT_ROOM,
  EXPIRED_NODES,
  HEARTBEAT,
  LOCK_REAP,
  OPEN_SESSION,
  SUBJECT_USER,
} from './redis-state-scripts';

/** The canonical encoding of a user: claims compare these strings. */
export function userJson(user: UserRef): string {
  return JSON.stringify({ id: user.id, name: user.name });
}

function parseUser(json: string): UserRef | undefined {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null) return undefined;
    const { id, name } = value as Record<string, unknown>;
    return typeof id === 'number' && typeof name === 'string' ? { id, name } : undefined;
  } catch {
    return undefined;
  }
}

/** How long a node holds the reaping lock of a dead node. @default 30_000 */
const REAP_LOCK_MS = 30_000;

/** Cluster state in Redis, on the bus' publishing connection (so joins and messages stay in order). */
export class RedisState implements ClusterState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  nextUserId(): Promise<number> {
    return this.call(() => this.redis.incr(this.key('users', 'next')));
  }

  async subjectUserId(subject: string): Promise<number> {
    const id = await this.script(SUBJECT_USER, [
      this.key('subject', subject),
      this.key('users', 'next'),
    ]);
    return Number(id);
  }

  async openSession(session: SessionRef, nameTtlMs: number): Promise<boolean> {
    const reply = await this.script(OPEN_SESSION, [
      this.nameKey(session.user.name),
      this.key('usessions', String(session.user.id)),
      this.key('node', session.nodeId),
      userJson(session.user),
      nameTtlMs,
      session.key,
    ]);
    return reply === 1;
  }

  async closeSession(session: SessionRef, left: LeftTemplate): Promise<void> {
    await this.exit(session, left, true);
  }

  async enterRoom(
    session: SessionRef,
    joined: JoinedEnvelope,
    left: LeftTemplate,
    announce = true,
  ): Promise<boolean> {
    const reply = await this.script(ENTER_ROOM, [
      this.key('node', session.nodeId),
      this.prefix,
      session.key,
      joined.room,
      session.user.id,
      userJson(session.user),
      announce ? JSON.stringify(joined) : '',
      JSON.stringify(left),
    ]);
    return reply === 1;
  }

  async exitRoom(session: SessionRef, left: LeftTemplate): Promise<string | undefined> {
    const room = await this.exit(session, left, false);
    return typeof room === 'string' && room !== '' ? room : undefined;
  }

  async renewNames(users: UserRef[], ttlMs: number): Promise<void> {
    await Promise.all(
      users.map((user) =>
        this.script(CLAIM_NAME, [this.nameKey(user.name), userJson(user), ttlMs]),
      ),
    );
  }

  async findUser(name: string): Promise<UserRef | undefined> {
    const json = await this.call(() => this.redis.get(this.nameKey(name)));
    return json === null ? undefined : parseUser(json);
  }

  async saveResume(token: string, record: ResumeRecord, ttlMs: number): Promise<void> {
    await this.call(() =>
      this.redis.set(this.key('resume', token), JSON.stringify(record), 'PX', ttlMs),
    );
  }

  async loadResume(token: string): Promise<ResumeRecord | undefined> {
    const json = await this.call(() => this.redis.get(this.key('resume', token)));
    if (json === null) return undefined;
    try {
      const value = JSON.parse(json) as { user?: unknown; sid?: unknown; session?: unknown };
      const user = parseUser(JSON.stringify(value.user ?? null));
      if (!user || typeof value.sid !== 'string') return undefined;
      const session = value.session as { nodeId?: unknown; key?: unknown } | undefined;
      return typeof session?.nodeId === 'string' && typeof session.key === 'string'
        ? { user, sid: value.sid, session: { nodeId: session.nodeId, key: session.key } }
        : { user, sid: value.sid };
    } catch {
      return undefined;
    }
  }

  async members(room: string): Promise<UserRef[]> {
    const values = await this.call(() => this.redis.hvals(this.key('room-names', room)));
    return values.map(parseUser).filter((u): u is UserRef => u !== undefined);
  }

  async rooms(): Promise<RoomCount[]> {
    const flat = await this.call(() =>
      this.redis.zrevrangebyscore(this.key('rooms', 'online'), '+inf', 1, 'WITHSCORES'),
    );
    const rooms: RoomCount[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      rooms.push({ room: flat[i] ?? '', members: Number(flat[i + 1]) });
    }
    return rooms;
  }

  async heartbeat(nodeId: string, ttlMs: number): Promise<boolean> {
    return (await this.script(HEARTBEAT, [this.key('nodes', 'leases'), nodeId, ttlMs])) === 1;
  }

  async expiredNodes(): Promise<string[]> {
    const ids = await this.script(EXPIRED_NODES, [this.key('nodes', 'leases')]);
    return Array.isArray(ids) ? ids.map(String) : [];
  }

  async reapNode(
    deadNodeId: string,
    reaperId: string,
    leftFor: (user: UserRef) => LeftTemplate,
  ): Promise<number | undefined> {
    const lock = this.key('reap', deadNodeId);
    const locked = await this.script(LOCK_REAP, [
      this.key('nodes', 'leases'),
      lock,
      deadNodeId,
      reaperId,
      REAP_LOCK_MS,
    ]);
    if (locked !== 1) return undefined;
    const sessions = await this.call(() => this.redis.hgetall(this.key('node', deadNodeId)));
    let closed = 0;
    for (const [key, value] of Object.entries(sessions)) {
      const user = parseUser(value.slice(value.indexOf('\n') + 1));
      if (!user) continue;
      await this.exit({ nodeId: deadNodeId, key, user }, leftFor(user), true);
      closed++;
    }
    await this.leaveCluster(deadNodeId);
    await this.call(() => this.redis.del(lock));
    return closed;
  }

  async leaveCluster(nodeId: string): Promise<void> {
    await this.call(() =>
      this.redis
        .multi()
        .zrem(this.key('nodes', 'leases'), nodeId)
        .del(this.key('node', nodeId))
        .exec(),
    );
  }

  async close(): Promise<void> {}

  private exit(session: SessionRef, left: LeftTemplate, close: boolean): Promise<unknown> {
    return this.script(EXIT_ROOM, [
      this.key('node', session.nodeId),
      this.key('usessions', String(session.user.id)),
      this.nameKey(session.user.name),
      this.prefix,
      session.key,
      session.user.id,
      userJson(session.user),
      JSON.stringify(left),
      close ? '1' : '0',
    ]);
  }

  private script(script: LuaScript, args: (string | number)[]): Promise<unknown> {
    return this.call(() => script.run(this.redis, args));
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new BusUnavailableError(error);
    }
  }

  private nameKey(name: string): string {
    return this.key('name', nameKey(name));
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}:${kind}:${id}`;
  }
}
