import {
  chatError,
  type LeaveReason,
  CLIENT_EVENTS,
  DEFAULT_ROOM,
  PROTOCOL_VERSION,
  type ChatError,
  type ClientEventName,
  type Handshake,
} from '@chat/protocol';
import type { Socket } from 'socket.io';
import { type GatewayContext, leftTemplate, resumeRecord, sessionRef, userLock } from '../context';
import type { SessionRef } from '../broker/cluster-state';
import { toChatError } from '../errors';
import { FloodGuard } from './flood-guard';
import { HANDLERS, type AnyAck } from './handlers';
import type { LocalSession } from './registry';
import type { ChatSocket } from './socket';
import { joinRoom, leaveLocally } from '../delivery/room-sync';
import { clientAddress } from './client-address';

/** Requests a client may have unanswered before more are refused (RATE_LIMITED). @default 256 */
const MAX_IN_FLIGHT = 256;

/** The reason Socket.IO gives when the client itself disconnected: an intentional quit. */
const CLIENT_QUIT = 'client namespace disconnect';

const isClientEvent = (event: string): event is ClientEventName =>
  (CLIENT_EVENTS as readonly string[]).includes(event);

/**
 * A connection's life on this node: set-up after the handshake, its events one at a time, and
 * its end. A client that quits leaves at once; one that vanishes keeps its presence for
 * `leaveGraceMs`, so that reconnecting (to any node) shows no `left`/`joined` to others.
 */
export class Connections {
  /** Sessions waiting out their grace period, by key; `until`: when it ends. */
  private readonly closing = new Map<
    string,
    { timer: NodeJS.Timeout; close: (keepNameMs?: number) => Promise<void>; until: number }
  >();
  /**
   * Closes that failed (Redis away); retried until they succeed. `until`: the end of the grace
   * period the close cut short (a drain), whose user keeps its name until then.
   */
  private failed: { session: LocalSession; until: number }[] = [];
  private idleWaiters: (() => void)[] = [];
  private abandoned = false;

  /** Refusals a session may pile up (100, earned back at 20/s) before it is cut off. */
  private readonly flood = new FloodGuard({ perSecond: 20, burst: 100 });

  constructor(private readonly ctx: GatewayContext) {}

  accept(socket: ChatSocket): void {
    const identity = socket.data.identity;
    if (!identity) {
      socket.disconnect(true);
      return;
    }
    // The session keeps what it needs of the handshake; the socket need not hold all of it.
    delete socket.data.identity;
    const session: LocalSession = {
      socket,
      user: identity.user,
      sid: identity.sid,
      resumeToken: identity.resumeToken,
      ...(identity.subject === undefined ? {} : { subject: identity.subject }),
      address: clientAddress(socket.handshake, this.ctx.config.trustProxy),
      batch: identity.handshake.batch === true,
      room: undefined,
      queue: Promise.resolve(),
      queued: 0,
      inFlight: 0,
    };
    // Listeners first: events that arrive during set-up wait on the queue, in order.
    (socket as Socket).onAny((event: string, ...args: unknown[]) =>
      this.dispatch(session, event, args),
    );
    socket.on('disconnect', (reason) =>
      this.run(session, () => this.disconnected(session, reason)),
    );
    const previous = identity.session && { ...identity.session, user: identity.user };
    this.run(session, () => this.setup(session, identity.handshake, previous));
  }

  /**
   * True while the session with this key (socket id) is waiting out its grace period, or its
   * close failed within that period: it is this node's to close (see retryFailedCloses).
   */
  inGrace(key: string): boolean {
    return this.closing.has(key) || this.failed.some(({ session }) => session.socket.id === key);
  }

  /** Resolves once no session is connected here and none is waiting out its grace period. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /** Stops all bookkeeping without telling the cluster anything (a simulated crash). */
  abandon(): void {
    this.abandoned = true;
    for (const { timer } of this.closing.values()) clearTimeout(timer);
    this.closing.clear();
  }

  private checkIdle(): void {
    if (this.ctx.registry.size > 0 || this.closing.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Ends every pending grace period now (shutdown): those users are announced as left, but
   * each keeps its name for the rest of its grace period, so a client that has not noticed the
   * drain yet (a stalled link) still comes back as itself, not to NAME_TAKEN.
   */
  async flush(): Promise<void> {
    const pending = [...this.closing.values()];
    this.closing.clear();
    for (const { timer } of pending) clearTimeout(timer);
    const now = Date.now();
    await Promise.all(pending.map(({ close, until }) => close(Math.max(0, until - now))));
  }

  /** Tells every local session the broker's new data generation (protocol `generation`). */
  tellGeneration(generation: string): void {
    for (const session of this.ctx.registry.all())
      session.socket.emit('generation', { generation });
  }

  /** Retries the cluster-wide close of sessions whose close failed while Redis was away. */
  async retryFailedCloses(): Promise<void> {
    const failed = this.failed;
    this.failed = [];
    for (const { session, until } of failed) {
      await this.closeShared(session, 'disconnected', Math.max(0, until - Date.now()));
    }
  }

  /**
   * A resume token stands for one session: the connection it replaces (on a dead node, or one
   * whose loss its node has not noticed yet) is closed cluster-wide now, after the new one has
   * entered its room, so nobody sees a `left` for it, and a later quit is announced at once.
   */
  private async takeOver(session: LocalSession, previous: SessionRef): Promise<void> {
    const { ctx } = this;
    if (previous.nodeId === ctx.nodeId && previous.key === session.socket.id) return;
    await ctx.lock.run(userLock(session.user), () =>
      ctx.state.closeSession(previous, leftTemplate(ctx.nodeId, session.user, 'moved')),
    );
  }

  private async setup(
    session: LocalSession,
    { room, since, epoch, dms }: Handshake,
    previous: SessionRef | undefined,
  ) {
    const { ctx } = this;
    const { user } = session;
    try {
      // The DM topic's subscription, the resume record and the name's DM holder do not wait
      // for each other: one round trip (BENCHMARKS.md, "The handshake's round trips").
      await ctx.lock.run(userLock(user), async () => {
        ctx.registry.add(session);
        const subscribed = ctx.relay.retainUser(user.id).catch((error: unknown) => {
          // Not subscribed: the disconnect that follows must not release the topic.
          ctx.registry.delete(session);
          throw error;
        });
        await settleAll([
          subscribed,
          ctx.state.saveResume(
            session.resumeToken,
            resumeRecord(ctx, session),
            ctx.config.resumeTtlMs,
          ),
          // DMs to this name while it is offline reach this user id (see README, "known user").
          ctx.dms.noteHolder(user.name, user.id),
        ]);
      });
      // Read with the join's first round trip; the catch-up below still runs after the join.
      // Subscribed first, so a DM stored after this read reaches the session live.
      const conversations = ctx.dms.conversations(user.id);
      conversations.catch(() => undefined);
      const generation = ctx.bus.generation();
      session.socket.emit('welcome', {
        v: PROTOCOL_VERSION,
        user: session.user,
        node: ctx.nodeId,
        room: room ?? DEFAULT_ROOM,
        resumeToken: session.resumeToken,
        ...(generation === undefined ? {} : { generation }),
      });
      ctx.logger.info({ user: session.user, socket: session.socket.id }, 'user connected');
      await joinRoom(ctx, session, room ?? DEFAULT_ROOM, since, 'handshake', epoch);
      if (previous) await this.takeOver(session, previous);
      await ctx.inbox.catchUp(session, dms, conversations);
    } catch (error) {
      this.fail(session, toChatError(error, ctx.logger, { phase: 'setup', user: session.user }));
    }
  }

  private dispatch(session: LocalSession, event: string, args: unknown[]): void {
    const last = args.at(-1);
    const ack = typeof last === 'function' ? (last as (response: AnyAck) => void) : undefined;
    const reply = (error: ChatError) => {
      this.ctx.metrics.error(error.code);
      if (ack) ack({ ok: false, error });
      else session.socket.emit('error', { ...error, event });
      const cutOff = error.code === 'RATE_LIMITED' ? this.flood.refused(session) : undefined;
      if (cutOff && session.socket.connected) {
        this.ctx.logger.warn({ user: session.user }, 'cutting off a client that ignores refusals');
        this.fail(session, cutOff);
      }
    };
    if (!isClientEvent(event)) {
      reply(chatError('UNKNOWN_EVENT', `unknown event '${event}'`));
      return;
    }
    if (session.inFlight >= MAX_IN_FLIGHT) {
      reply(chatError('RATE_LIMITED', 'too many requests in flight; wait for acks'));
      return;
    }
    session.inFlight++;
    const handle = async () => {
      try {
        const result = await HANDLERS[event](this.ctx, session, args[0]);
        ack?.({ ok: true, ...result });
      } catch (error) {
        const failure = toChatError(error, this.ctx.logger, { event, user: session.user });
        reply(failure);
        // A join that failed half-way leaves the client unsure where it is: make it reconnect.
        if (event === 'join' && failure.code === 'UNAVAILABLE') session.socket.disconnect(true);
      } finally {
        session.inFlight--;
      }
    };
    // Sends are pipelined: each reaches the bus synchronously, so they keep their order without
    // waiting for each other's acks. Anything queued (set-up, a join) goes first, in order.
    if (event === 'send' && session.queued === 0) void handle();
    else this.run(session, handle);
  }

  /** Runs `task` after every earlier queued task of the session. */
  private run(session: LocalSession, task: () => Promise<void>): void {
    session.queued++;
    session.queue = session.queue.then(task).finally(() => {
      session.queued--;
    });
  }

  private fail(session: LocalSession, error: ChatError): void {
    this.ctx.metrics.error(error.code);
    session.socket.emit('error', error);
    session.socket.disconnect(true);
  }

  private async disconnected(session: LocalSession, reason: string): Promise<void> {
    const { ctx } = this;
    if (this.abandoned) return;
    await ctx.lock.run(userLock(session.user), async () => {
      leaveLocally(ctx, session);
      if (ctx.registry.delete(session)) ctx.relay.releaseUser(session.user.id);
    });
    ctx.logger.info({ user: session.user, socket: session.socket.id, reason }, 'user disconnected');
    const close = (keepNameMs = 0) =>
      this.closeShared(session, reason === CLIENT_QUIT ? 'quit' : 'disconnected', keepNameMs);
    if (reason === CLIENT_QUIT || ctx.config.leaveGraceMs === 0) {
      await close();
      this.checkIdle();
      return;
    }
    this.holdName(session);
    const key = session.socket.id;
    const timer = setTimeout(() => {
      this.closing.delete(key);
      void close().finally(() => this.checkIdle());
    }, ctx.config.leaveGraceMs);
    this.closing.set(key, { timer, close, until: Date.now() + ctx.config.leaveGraceMs });
  }

  /**
   * Tells the cluster that the session's name is held for its grace period, so that a
   * reconnect without `resume` hears "retry in N ms", not a final NAME_TAKEN. Advisory: a
   * failure only costs that hint.
   */
  private holdName(session: LocalSession): void {
    const { ctx } = this;
    if (session.address === undefined) return;
    const hold = {
      userId: session.user.id,
      address: session.address,
      until: Date.now() + ctx.config.leaveGraceMs,
    };
    ctx.state.holdName(session.user.name, hold).catch((error: unknown) => {
      ctx.logger.debug({ user: session.user, err: String(error) }, 'could not record name hold');
    });
  }

  /**
   * Ends the session cluster-wide; `left` goes out if it was the user's last in the room. With
   * `keepNameMs` (a grace period cut short), the name stays the user's that much longer.
   */
  private async closeShared(
    session: LocalSession,
    reason: LeaveReason,
    keepNameMs = 0,
  ): Promise<void> {
    const { ctx } = this;
    try {
      await ctx.lock.run(userLock(session.user), () =>
        ctx.state.closeSession(
          sessionRef(ctx, session),
          leftTemplate(ctx.nodeId, session.user, reason),
          true,
          keepNameMs,
        ),
      );
    } catch (error) {
      ctx.logger.warn(
        { user: session.user, err: String(error) },
        'could not close session; will retry',
      );
      this.failed.push({ session, until: Date.now() + keepNameMs });
    }
  }
}

/**
 * Waits for every one of `tasks`, then rejects with the first failure, if any: nothing is
 * left running when the caller handles the failure (a subscription still opening would be
 * released twice, once by the disconnect and once by its own failure).
 */
async function settleAll(tasks: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
