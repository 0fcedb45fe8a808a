import {
  type GatewayContext,
  joinedEnvelope,
  leftTemplate,
  resumeRecord,
  sessionRef,
  userLock,
} from '../context';

/**
 * Writes back into the broker what this node owns for its live sessions, after the broker lost
 * or rolled back its data (or this node's lease lapsed): user ids (the counter is raised above
 * every id held here, and after a loss above the time in ms, so no id is given to a second
 * user, online or not), authenticated subjects, sessions and
 * names (still unique: a name someone else took meanwhile is not taken back, and logged), resume
 * records, presence per room without `joined` (nobody moved), and each room's seq counter and
 * epoch (raised to what was delivered here, see RoomSequencer). Sessions the broker has on
 * record for this node that it no longer holds (ended after the snapshot Redis came back from)
 * are closed without a notice: their `left` went out when they ended. Sessions waiting out
 * their grace period (`inGrace`) are left as the broker has them. Every step is idempotent,
 * so re-asserting state the broker still has changes nothing. Resolves to the sessions restored.
 */
export async function reassertOwnership(
  ctx: GatewayContext,
  { inGrace, rolledBack }: { inGrace: (key: string) => boolean; rolledBack: boolean },
): Promise<number> {
  // Rooms and sends first: the settle window (see BrokerFence) holds appends only so long.
  ctx.relay.repairRooms();
  if (rolledBack) {
    const sends = await ctx.bus.restoreSends();
    ctx.logger.info({ sends }, 'wrote back the cid records of our recent sends');
  }
  // Only after a detected loss or rollback: a handshake opens its session a moment before the
  // registry knows it, so this sweep is kept to the rare round that needs it.
  const recorded = rolledBack ? await ctx.state.sessionsOn(ctx.nodeId) : [];
  for (const stale of recorded) {
    if (ctx.registry.get(stale.key) || inGrace(stale.key)) continue;
    await ctx.lock.run(userLock(stale.user), async () => {
      if (ctx.registry.get(stale.key)) return;
      await ctx.state.closeSession(stale, leftTemplate(ctx.nodeId, stale.user, 'quit'), false);
    });
  }
  const sessions = [...ctx.registry.all()];
  const highest = Math.max(0, ...sessions.map((s) => s.user.id));
  // Which ids the lost counter had handed out to users now offline is unknown; it does not
  // matter: every new id is above Redis' time in µs (NEXT_ID in scripts/fragments.ts), so above
  // every earlier id even when no live node saw the data before the loss. Raising to our own
  // users' ids (and the time in ms after a loss) only keeps the counter where it was.
  const floor = rolledBack ? Math.max(highest, Date.now()) : highest;
  if (floor > 0) await ctx.state.raiseUserIds(floor);
  // Conversations, like rooms, never give a position twice: back to what our sessions were given.
  if (rolledBack) await ctx.inbox.reassert(sessions);
  let restored = 0;
  for (const session of sessions) {
    await ctx.lock.run(userLock(session.user), async () => {
      // Gone meanwhile (disconnected while we waited for the lock): nothing to own.
      if (!ctx.registry.ofSid(session.sid).has(session)) return;
      if (session.subject !== undefined) {
        await ctx.state.restoreSubject(session.subject, session.user.id);
      }
      const ref = sessionRef(ctx, session);
      if (!(await ctx.state.openSession(ref, ctx.config.nameTtlMs))) {
        ctx.logger.warn({ user: session.user }, 'could not re-claim a name: someone took it');
      }
      await ctx.state.saveResume(
        session.resumeToken,
        resumeRecord(ctx, session),
        ctx.config.resumeTtlMs,
      );
      if (session.room !== undefined) {
        const joined = joinedEnvelope(ctx, session.room, session.user);
        await ctx.state.enterRoom(
          ref,
          joined,
          leftTemplate(ctx.nodeId, session.user, 'moved'),
          false,
        );
      }
      restored++;
    });
  }
  return restored;
}
