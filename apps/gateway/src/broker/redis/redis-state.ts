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
  SettleOptions,
} from '../cluster-state';
import { encodeEnvelope, type JoinedEnvelope } from '../envelope';
import { DEFAULT_QUIET_ABOVE, joinedNotice, leftNotice } from '../quiet-rooms';
import { parseUser, userJson } from '../users';
import { parseHold, parseResume } from './records';
import { MAX_RESUME_KEYS } from '../resume-keys';
import { BrokerCheckIn, noticesInScript, publishNotices } from './sharded-state';
import type { RedisBackend } from './redis-backend';
import { NEXT_USER_ID, RAISE_COUNTER } from './scripts/broker-identity';
import { EXPIRED_NODES, HEARTBEAT, LOCK_REAP } from './scripts/node-leases';
import { RECOVERING } from './scripts/recovery';
import {
  RENEW_NAMES,
  ENTER_ROOM,
  SHARE_RESUME_KEYS,
  EXIT_ROOM,
  OPEN_SESSION,
  SUBJECT_USER,
  type MembershipReply,
} from './scripts/sessions';

/** How long a node holds the reaping lock of a dead node. @default 30_000 */
const REAP_LOCK_MS = 30_000;
/** Name leases renewed per script call (see renewNames). @default 256 */
const RENEW_NAMES_CHUNK = 256;
/** Attempts at a membership change whose session moved meanwhile. @default 3 */
const MEMBERSHIP_ATTEMPTS = 3;

/**
 * Cluster state in Redis, on the backend's command connection (the bus' too, so joins and
 * messages stay in order). On a Redis Cluster all of it lives on one shard (see RedisNames), and
 * the membership scripts leave the `joined`/`left` notices to this class, which publishes them
 * on the rooms' shards right after.
 */
export class RedisState implements ClusterState {
  private readonly identity: BrokerCheckIn;

  /** @param quietAbove see quiet-rooms.ts */
  constructor(
    private readonly redis: RedisBackend,
    private readonly quietAbove = DEFAULT_QUIET_ABOVE,
  ) {
    this.identity = new BrokerCheckIn(redis);
  }

  async nextUserId(): Promise<number> {
    const { names, fence } = this.redis;
    fence.guard();
    const id = await this.redis.run(NEXT_USER_ID, {
      keys: { user_counter: names.userCounter(), node_mark: names.nodeMark(fence.node) },
      argv: { mark: fence.mark },
    });
    return id < 0 ? fence.refused('forgot') : id;
  }

  onBrokerForgot(listener: () => void): void {
    this.redis.fence.onForgot(listener);
  }

  async raiseUserIds(atLeast: number): Promise<void> {
    await this.redis.run(RAISE_COUNTER, {
      keys: { counter: this.redis.names.userCounter() },
      argv: { at_least: atLeast },
    });
  }

  async restoreSubject(subject: string, userId: number): Promise<void> {
    const key = this.redis.names.subject(subject);
    await this.redis.call((redis) => redis.set(key, userId, 'NX'));
  }

  lossWitnessed(witness: string, settleMs: number): Promise<string> {
    return this.identity.lossWitnessed(witness, settleMs);
  }

  checkIn(
    nodeId: string,
    mark: string,
    ttlMs: number,
    settle?: SettleOptions,
  ): Promise<BrokerIdentity> {
    return this.identity.checkIn(nodeId, mark, ttlMs, settle);
  }

  subjectUserId(subject: string): Promise<number> {
    const { names } = this.redis;
    return this.redis.run(SUBJECT_USER, {
      keys: { subject_key: names.subject(subject), user_counter: names.userCounter() },
      argv: {},
    });
  }

  openSession(session: SessionRef, nameTtlMs: number): Promise<boolean> {
    const { names } = this.redis;
    return this.redis.run(OPEN_SESSION, {
      keys: {
        name_key: names.name(session.user.name),
        user_sessions: names.userSessions(session.user.id),
        user_name: names.userName(session.user.id),
        node_sessions: names.nodeSessions(session.nodeId),
      },
      argv: { user: userJson(session.user), ttl_ms: nameTtlMs, session: session.key },
    });
  }

  async closeSession(
    session: SessionRef,
    left: LeftTemplate,
    announce = true,
    keepNameMs = 0,
  ): Promise<void> {
    await this.exit(session, left, true, announce, keepNameMs);
  }

  async sessionsOn(nodeId: string): Promise<SessionRef[]> {
    const key = this.redis.names.nodeSessions(nodeId);
    const sessions = await this.redis.call((redis) => redis.hgetall(key));
    return Object.entries(sessions).flatMap(([sessionKey, value]) => {
      const user = parseUser(value.slice(value.indexOf('\n') + 1));
      return user ? [{ nodeId, key: sessionKey, user }] : [];
    });
  }

  async enterRoom(
    session: SessionRef,
    joined: JoinedEnvelope,
    left: LeftTemplate,
    announce = true,
  ): Promise<Entered> {
    const { names } = this.redis;
    const room = joined.room;
    const from = (previous: string) => ({ ...left, room: previous });
    const reply = await this.changeMembership(
      session,
      (current) =>
        this.redis.run(ENTER_ROOM, {
          keys: {
            node_sessions: names.nodeSessions(session.nodeId),
            rooms_online: names.roomsOnline(),
            to_users: names.roomUsers(room),
            to_names: names.roomNames(room),
            from_users: names.roomUsers(current),
            from_names: names.roomNames(current),
          },
          argv: {
            publish: noticesInScript(this.redis),
            session: session.key,
            expected: current,
            room,
            user_id: session.user.id,
            user: userJson(session.user),
            joined: announce ? encodeEnvelope(joined) : '',
            joined_quiet: announce ? encodeEnvelope(joinedNotice(joined, 'crossing')) : '',
            to_channel: names.channel({ kind: 'room', room }),
            // No previous room (a handshake's join): the script reads no `left`, encode none.
            left: current === '' ? '' : encodeEnvelope(from(current)),
            left_loud: current === '' ? '' : encodeEnvelope(leftNotice(from(current), 'crossing')),
            from_channel: names.channel({ kind: 'room', room: current }),
            quiet_above: this.quietAbove,
          },
        }),
      // The script checks the session's room itself: the node's belief saves reading it first
      // (one round trip less per join; a handshake's join is always from '').
      session.room,
    );
    if (reply.status !== 'done') return { first: false, members: 0 };
    await publishNotices(this.redis, reply, from(reply.previous), joined);
    return { first: reply.first, members: reply.members };
  }

  async exitRoom(session: SessionRef, left: LeftTemplate): Promise<string | undefined> {
    const reply = await this.exit(session, left, false);
    return reply.status === 'done' && reply.previous !== '' ? reply.previous : undefined;
  }

  /**
   * RENEW_NAMES_CHUNK names per script call: a node with 10,000 users makes 40 calls every
   * renewal instead of 10,000 (each one allocations on the node and a round of work in Redis),
   * one per turn of the event loop.
   */
  async renewNames(users: UserRef[], ttlMs: number): Promise<void> {
    const { names } = this.redis;
    const calls: Promise<number>[] = [];
    for (let i = 0; i < users.length; i += RENEW_NAMES_CHUNK) {
      // One chunk per turn of the event loop: deliveries go on between them instead of waiting
      // for all of a node's users (at 10,000, a stall that set the p99 of S6's trickle).
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = users.slice(i, i + RENEW_NAMES_CHUNK);
      const call = this.redis.run(RENEW_NAMES, {
        keys: {},
        argv: { ttl_ms: ttlMs },
        more: { keys: chunk.map((u) => names.name(u.name)), argv: chunk.map(userJson) },
      });
      // Handled here at once: a chunk that fails while later ones wait for their turn must not
      // be an unhandled rejection (the process would exit); Promise.all below still rejects.
      call.catch(() => undefined);
      calls.push(call);
    }
    await Promise.all(calls);
  }

  async findUser(name: string): Promise<UserRef | undefined> {
    const json = await this.redis.call((redis) => redis.get(this.redis.names.name(name)));
    return json === null ? undefined : parseUser(json);
  }

  async settled(): Promise<void> {
    const { names, fence, sharded } = this.redis;
    fence.guard();
    // As for appends: on a Redis Cluster a process that just started does not wait.
    if (!sharded && fence.starting()) fence.refused('settling');
    const why = await this.redis.run(RECOVERING, {
      keys: { node_mark: names.nodeMark(fence.node), settle: names.settle() },
      argv: { mark: fence.mark },
    });
    if (why !== undefined) fence.refused(why);
  }

  async holdName(name: string, hold: NameHold): Promise<void> {
    const ttlMs = Math.max(1, hold.until - Date.now());
    const key = this.redis.names.nameHold(name);
    await this.redis.call((redis) => redis.set(key, JSON.stringify(hold), 'PX', ttlMs));
  }

  async nameHold(name: string): Promise<NameHold | undefined> {
    const json = await this.redis.call((redis) => redis.get(this.redis.names.nameHold(name)));
    const hold = json === null ? undefined : parseHold(json);
    return hold && hold.until > Date.now() ? hold : undefined;
  }

  async saveResume(token: string, record: ResumeRecord, ttlMs: number): Promise<void> {
    const key = this.redis.names.resume(token);
    await this.redis.call((redis) => redis.set(key, JSON.stringify(record), 'PX', ttlMs));
  }

  async loadResume(token: string): Promise<ResumeRecord | undefined> {
    const json = await this.redis.call((redis) => redis.get(this.redis.names.resume(token)));
    return json === null ? undefined : parseResume(json);
  }

  shareResumeKeys(keys: readonly ResumeKey[], keepMs: number): Promise<ResumeKey[]> {
    return this.redis.run(SHARE_RESUME_KEYS, {
      keys: { ring: this.redis.names.resumeKeys() },
      argv: { oldest: Date.now() - keepMs, max_keys: MAX_RESUME_KEYS, keep_ms: keepMs },
      more: { keys: [], argv: keys.flatMap((key) => [`${key.id}:${key.secret}`, key.seen]) },
    });
  }

  async members(room: string): Promise<UserRef[]> {
    const key = this.redis.names.roomNames(room);
    const values = await this.redis.call((redis) => redis.hvals(key));
    return values.map(parseUser).filter((u): u is UserRef => u !== undefined);
  }

  async rooms(): Promise<RoomCount[]> {
    const key = this.redis.names.roomsOnline();
    const flat = await this.redis.call((redis) =>
      redis.zrevrangebyscore(key, '+inf', 1, 'WITHSCORES'),
    );
    const rooms: RoomCount[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      rooms.push({ room: flat[i] ?? '', members: Number(flat[i + 1]) });
    }
    return rooms;
  }

  heartbeat(nodeId: string, ttlMs: number): Promise<boolean> {
    return this.redis.run(HEARTBEAT, {
      keys: { leases: this.redis.names.nodeLeases() },
      argv: { node: nodeId, ttl_ms: ttlMs },
    });
  }

  expiredNodes(): Promise<string[]> {
    return this.redis.run(EXPIRED_NODES, {
      keys: { leases: this.redis.names.nodeLeases() },
      argv: {},
    });
  }

  async reapNode(
    deadNodeId: string,
    reaperId: string,
    leftFor: (user: UserRef) => LeftTemplate,
    keepNameMs = 0,
  ): Promise<number | undefined> {
    const { names } = this.redis;
    const lock = names.reapLock(deadNodeId);
    const locked = await this.redis.run(LOCK_REAP, {
      keys: { leases: names.nodeLeases(), lock },
      argv: { node: deadNodeId, reaper: reaperId, lock_ttl_ms: REAP_LOCK_MS },
    });
    if (!locked) return undefined;
    const key = names.nodeSessions(deadNodeId);
    const sessions = await this.redis.call((redis) => redis.hgetall(key));
    let closed = 0;
    for (const [sessionKey, value] of Object.entries(sessions)) {
      const user = parseUser(value.slice(value.indexOf('\n') + 1));
      if (!user) continue;
      const session = { nodeId: deadNodeId, key: sessionKey, user };
      await this.exit(session, leftFor(user), true, true, keepNameMs);
      closed++;
    }
    await this.leaveCluster(deadNodeId);
    await this.redis.call((redis) => redis.del(lock));
    return closed;
  }

  async leaveCluster(nodeId: string): Promise<void> {
    const { names } = this.redis;
    await this.redis.call((redis) =>
      redis.multi().zrem(names.nodeLeases(), nodeId).del(names.nodeSessions(nodeId)).exec(),
    );
  }

  close(): Promise<void> {
    return this.redis.close();
  }

  private async exit(
    session: SessionRef,
    left: LeftTemplate,
    close: boolean,
    announce = true,
    keepNameMs = 0,
  ): Promise<MembershipReply> {
    const { names } = this.redis;
    const reply = await this.changeMembership(session, (from) =>
      this.redis.run(EXIT_ROOM, {
        keys: {
          node_sessions: names.nodeSessions(session.nodeId),
          rooms_online: names.roomsOnline(),
          user_sessions: names.userSessions(session.user.id),
          user_name: names.userName(session.user.id),
          name_key: names.name(session.user.name),
          from_users: names.roomUsers(from),
          from_names: names.roomNames(from),
        },
        argv: {
          publish: noticesInScript(this.redis),
          session: session.key,
          expected: from,
          user_id: session.user.id,
          user: userJson(session.user),
          left: announce ? encodeEnvelope({ ...left, room: from }) : '',
          left_loud: announce
            ? encodeEnvelope(leftNotice({ ...left, room: from }, 'crossing'))
            : '',
          from_channel: names.channel({ kind: 'room', room: from }),
          close: close ? '1' : '0',
          keep_name_ms: Math.max(0, Math.round(keepNameMs)),
          quiet_above: this.quietAbove,
        },
      }),
    );
    if (reply.status === 'done')
      await publishNotices(this.redis, reply, { ...left, room: reply.previous });
    return reply;
  }

  /**
   * Runs a membership script for the room the session is in now: read from its entry (unless
   * `guess` names it), then passed with that room's keys; if the session moved in between, or
   * the guess was wrong, again with the room the script found (a guess gets one more attempt).
   */
  private async changeMembership(
    session: SessionRef,
    attempt: (from: string) => Promise<MembershipReply>,
    guess?: string,
  ): Promise<MembershipReply> {
    let from = guess;
    if (from === undefined) {
      const key = this.redis.names.nodeSessions(session.nodeId);
      const entry = await this.redis.call((redis) => redis.hget(key, session.key));
      if (entry === null) return { status: 'missing' };
      from = entry.slice(0, entry.indexOf('\n'));
    }
    const attempts = MEMBERSHIP_ATTEMPTS + (guess === undefined ? 0 : 1);
    for (let i = 0; i < attempts; i++) {
      const reply = await attempt(from);
      if (reply.status !== 'moved') return reply;
      from = reply.current;
    }
    throw new Error(`session ${session.key} kept changing rooms`);
  }
}
