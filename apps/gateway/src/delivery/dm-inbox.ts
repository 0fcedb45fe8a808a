import type { DirectMessage } from '@chat/protocol';
import type { ConversationState, DmStore } from '../broker/dm-store';
import type { DmEnvelope } from '../broker/envelope';
import type { Logger } from '../logger';
import type { LocalSession } from '../sessions/registry';

/** Most DMs one catch-up reads per conversation and call. */
const CATCH_UP_PAGE = 200;

interface SessionDms {
  /** Highest seq given to this session, per conversation: nothing is given twice. */
  seen: Map<string, number>;
  /** Live DMs held while the session catches up, so it sees each conversation in seq order. */
  held: DmEnvelope[] | undefined;
  /** Its catch-up read every conversation: one missing from `seen` began after it (seen: 0). */
  caughtUp: boolean;
}

export function toDirectMessage(envelope: DmEnvelope, offline = false): DirectMessage {
  const { id, from, to, text, ts, conversation, seq } = envelope;
  return { id, from, to, text, ts, conversation, seq, ...(offline ? { offline: true } : {}) };
}

/**
 * This node's DM delivery to its sessions. Live DMs arrive on the user's topic (the store
 * publishes each to both participants); a session that connects first gets what was stored for
 * its user since the user's `delivered` mark (sent while no session of the user was online),
 * then live ones: each conversation in seq order, no seq twice to one session.
 */
export class DmInbox {
  private readonly sessions = new WeakMap<LocalSession, SessionDms>();

  constructor(
    private readonly store: DmStore,
    private readonly logger: Logger,
  ) {}

  /**
   * A DM published to `userId`'s topic: to each of their sessions here but the sender's. One
   * that skips positions this session has not seen (a DM published meanwhile was lost to us, or
   * on a Redis Cluster is still on its way: different nodes publish a conversation's DMs) makes
   * the session read the conversation from the store up to it first, so nothing is skipped.
   */
  deliver(envelope: DmEnvelope, recipients: Iterable<LocalSession>, userId: number): void {
    let delivered = false;
    for (const session of recipients) {
      const state = this.state(session);
      if (state.held) state.held.push(envelope);
      else if (this.skipsAhead(state, envelope)) void this.fill(session, state, envelope, userId);
      // Its own DM: known to the session (never echoed), and no gap before the next one.
      else if (session.sid === envelope.sid) this.skip(state, envelope);
      else delivered = this.give(session, state, envelope, false) || delivered;
    }
    if (delivered) this.markDelivered(userId, envelope);
  }

  /**
   * Gives `session` every stored DM of its user above `positions` (the client's last seen seq
   * per conversation, from its handshake) or else the user's delivered mark, then the live ones
   * that arrived meanwhile. Only the user's own conversations are read: a position for any other
   * conversation id is ignored, and one beyond a conversation's head counts as 0. Resolves when done; failures are logged (the DMs stay stored
   * and unread: `dms` and `history` still show them). `read`: the user's conversations, when
   * the caller asked for them already (after the user's topic was subscribed, so every DM
   * stored after that read reaches the session live).
   */
  async catchUp(
    session: LocalSession,
    positions: Readonly<Record<string, number>> = {},
    read?: Promise<ConversationState[]>,
  ): Promise<void> {
    const state = this.state(session);
    state.held = [];
    try {
      const conversations = await (read ?? this.store.conversations(session.user.id));
      for (const c of conversations) {
        // A position beyond the head belongs to a conversation that expired (or that the broker
        // lost) and started over: everything in it now is new to this client.
        const position = positions[c.conversation];
        let after = position === undefined ? c.delivered : position <= c.head ? position : 0;
        // The user's mark may already count a DM that reached another session of theirs while
        // this one was registering: held for this session, it is news to it all the same.
        if (position === undefined) {
          for (const m of state.held ?? []) {
            if (m.conversation === c.conversation && m.sid !== session.sid) {
              after = Math.min(after, m.seq - 1);
            }
          }
        }
        // Never below what this session was given live between its registration and now.
        after = Math.max(after, state.seen.get(c.conversation) ?? 0);
        state.seen.set(c.conversation, after);
        while (after < c.head) {
          const page = await this.store.since(c.conversation, after, CATCH_UP_PAGE);
          for (const m of page.messages) this.give(session, state, m, true);
          after = page.messages.at(-1)?.seq ?? c.head;
        }
        if (c.head > c.delivered)
          await this.store.mark(session.user.id, c.conversation, 'delivered', c.head);
      }
      state.caughtUp = true;
    } catch (error) {
      this.logger.warn({ err: error, user: session.user }, 'DM catch-up failed');
    } finally {
      this.release(session, state, session.user.id);
    }
  }

  /**
   * Raises every conversation's counter to the highest seq given to one of `sessions`, after
   * the broker lost or rolled back data, so no position they were given goes to another DM.
   */
  async reassert(sessions: Iterable<LocalSession>): Promise<void> {
    const highest = new Map<string, number>();
    for (const session of sessions) {
      for (const [conversation, seq] of this.sessions.get(session)?.seen ?? []) {
        highest.set(conversation, Math.max(seq, highest.get(conversation) ?? 0));
      }
    }
    for (const [conversation, seq] of highest) await this.store.raise(conversation, seq);
  }

  /** Reads the stored DMs between what `session` saw and `live`, gives them, then the held ones. */
  private async fill(
    session: LocalSession,
    state: SessionDms,
    live: DmEnvelope,
    userId: number,
  ): Promise<void> {
    state.held = [live];
    try {
      const after = state.seen.get(live.conversation) ?? 0;
      const page = await this.store.since(live.conversation, after, live.seq - after);
      for (const m of page.messages) {
        if (m.seq >= live.seq) break;
        if (m.sid === session.sid) this.skip(state, m);
        else this.give(session, state, m, false);
      }
    } catch (error) {
      this.logger.warn({ err: error, user: session.user }, 'DM gap not filled');
    } finally {
      this.release(session, state, userId);
    }
  }

  /** Ends a catch-up or a fill: the live DMs held meanwhile, in arrival order. */
  private release(session: LocalSession, state: SessionDms, userId: number): void {
    const held = state.held ?? [];
    state.held = undefined;
    for (const m of held) {
      if (m.sid === session.sid) this.skip(state, m);
      else if (this.give(session, state, m, false)) this.markDelivered(userId, m);
    }
  }

  /** True when `m` lies beyond the next position the session expects in its conversation. */
  private skipsAhead(state: SessionDms, m: DmEnvelope): boolean {
    const seen = state.seen.get(m.conversation) ?? (state.caughtUp ? 0 : undefined);
    return seen !== undefined && m.seq > seen + 1;
  }

  private skip(state: SessionDms, m: DmEnvelope): void {
    if (m.seq > (state.seen.get(m.conversation) ?? 0)) state.seen.set(m.conversation, m.seq);
  }

  private give(session: LocalSession, state: SessionDms, m: DmEnvelope, offline: boolean): boolean {
    if (m.seq <= (state.seen.get(m.conversation) ?? 0)) return false;
    state.seen.set(m.conversation, m.seq);
    // What a session sent is never given back to it, live or caught up (as for rooms): a
    // client that resumes before its DM's ack came back must not see its own DM arrive.
    if (m.sid === session.sid) return false;
    session.socket.emit('dm', toDirectMessage(m, offline));
    return true;
  }

  private markDelivered(userId: number, m: DmEnvelope): void {
    this.store.mark(userId, m.conversation, 'delivered', m.seq).catch((error: unknown) => {
      this.logger.debug({ err: error, userId }, 'DM delivered mark not saved');
    });
  }

  private state(session: LocalSession): SessionDms {
    let state = this.sessions.get(session);
    if (!state)
      this.sessions.set(session, (state = { seen: new Map(), held: undefined, caughtUp: false }));
    return state;
  }
}
