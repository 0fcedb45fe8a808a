import {
  dmHasEarlier,
  dmPageNotice,
  sanitize,
  type DirectMessage,
  type DmResult,
  type DmsResult,
  type HistoryResult,
  type ChatMessage,
  type JoinResult,
  type RoomHistoryResult,
  type RoomsResult,
  type SearchResult,
  type UserRef,
  type WhoResult,
} from '@chat/protocol';
import { HELP } from './commands';
import type { Line } from './render';
import type { Style } from './style';

/** Lines answering the user's own commands (as opposed to events from other people). */

const members = (n: number): string => `${n} ${n === 1 ? 'member' : 'members'}`;

export function renderJoined(result: JoinResult, style: Style): Line {
  return { stream: 'out', text: style.notice(`Now in #${sanitize(result.room)}`) };
}

/** One line per room, so a script can read them as a list. */
export function renderRooms(result: RoomsResult, style: Style): Line[] {
  if (result.rooms.length === 0) return [{ stream: 'out', text: style.notice('No rooms') }];
  return result.rooms.map(({ room, members: count }) => ({
    stream: 'out',
    text: style.notice(`#${sanitize(room)} (${members(count)})`),
  }));
}

export function renderWho(result: WhoResult, self: UserRef | undefined, style: Style): Line {
  const names = result.members.map((user) => {
    const shown = style.name(sanitize(user.name), user.id);
    return user.id === self?.id ? `${shown} (you)` : shown;
  });
  const list = names.length === 0 ? 'nobody' : names.join(', ');
  return {
    stream: 'out',
    text: style.notice(`Members of #${sanitize(result.room)} (${result.members.length}): ${list}`),
  };
}

export function renderHelp(style: Style): Line[] {
  return HELP.map((text) => ({ stream: 'out', text: style.notice(text) }));
}

/** A direct message the gateway accepted: `[DM to <name>] <text>`. */
export function renderDmSent(result: DmResult, text: string, style: Style): Line {
  return {
    stream: 'out',
    text: `${style.name(`[DM to ${sanitize(result.to.name)}]`, result.to.id)} ${sanitize(text)}`,
  };
}

/** One line per conversation, most recent first: `@alice: 2 unread (5 messages)`. */
export function renderDms(result: DmsResult, style: Style): Line[] {
  if (result.conversations.length === 0) {
    return [{ stream: 'out', text: style.notice('No private conversations') }];
  }
  return result.conversations.map((c) => ({
    stream: 'out',
    text: style.notice(`@${sanitize(c.with.name)}: ${c.unread} unread (last #${c.seq})`),
  }));
}

/** The page oldest first, as the DMs looked live; first a note if earlier ones are gone or archived. */
export function renderHistory(
  result: HistoryResult,
  self: UserRef | undefined,
  style: Style,
): Line[] {
  const lines: Line[] = [];
  const name = sanitize(result.with.name);
  const notice = dmPageNotice(result, name);
  if (notice !== undefined) lines.push({ stream: 'out', text: style.notice(notice) });
  if (result.messages.length === 0) {
    lines.push({
      stream: 'out',
      text: style.notice(`No messages with ${name}`),
    });
  }
  for (const m of result.messages) lines.push(dmLine(m, self, style));
  return lines;
}

/** `[DM to <name>] <text>` or `[DM from <name>] <text>`, as a DM reads live. */
function dmLine(m: DirectMessage, self: UserRef | undefined, style: Style): Line {
  const mine = m.from.id === self?.id;
  const tag = mine ? `[DM to ${sanitize(m.to.name)}]` : `[DM from ${sanitize(m.from.name)}]`;
  return {
    stream: 'out',
    text: `${style.name(tag, mine ? m.to.id : m.from.id)} ${sanitize(m.text)}`,
  };
}

/** `/more NAME`: the conversation's page oldest first, then a note when nothing is earlier. */
export function renderEarlierDms(
  result: HistoryResult,
  self: UserRef | undefined,
  style: Style,
): Line[] {
  const lines = result.messages.map((m) => dmLine(m, self, style));
  if (!dmHasEarlier(result)) {
    lines.push({
      stream: 'out',
      text: style.notice(`No earlier messages with ${sanitize(result.with.name)}`),
    });
  }
  return lines;
}

/** A line that has not gone out yet (terminal mode): reconnecting, or the cluster is away. */
export function renderWaiting(text: string, style: Style): Line {
  return { stream: 'err', text: style.notice(`… waiting to send: ${sanitize(text)}`) };
}

/**
 * A line the server can no longer say it stored (RECORDS_LOST): it lost its records since the
 * first try. Not resent, so it is never stored twice; the user decides.
 */
export function renderNotSure(text: string, style: Style): Line {
  return {
    stream: 'err',
    text: style.error(
      `! not sure "${sanitize(text)}" was sent: the server lost its records; send it again if it did not arrive`,
    ),
  };
}

/** A line shown as waiting has now been accepted. */
export function renderSentAfterWait(text: string, style: Style): Line {
  return { stream: 'err', text: style.notice(`… sent: ${sanitize(text)}`) };
}

/** The last line of a session the user ended (terminal mode). */
export function renderGoodbye(style: Style): Line {
  return { stream: 'out', text: style.notice('Bye! You have left the chat.') };
}

/** A mistyped command; on stderr, since nothing was sent. */
export function renderHint(hint: string, style: Style): Line {
  return { stream: 'err', text: style.error(sanitize(hint)) };
}

/** `[<name>] <text>`, as a room message reads live. */
function messageLine(message: ChatMessage, style: Style): Line {
  const from = style.name(`[${sanitize(message.from.name)}]`, message.from.id);
  return { stream: 'out', text: `${from} ${sanitize(message.text)}` };
}

/** `/more`: the page oldest first, then a note when nothing earlier is kept. */
export function renderEarlier(result: RoomHistoryResult, style: Style): Line[] {
  const lines = result.messages.map((m) => messageLine(m, style));
  if (!result.more) {
    lines.push({
      stream: 'out',
      text: style.notice(`No earlier messages in #${sanitize(result.room)}`),
    });
  }
  return lines;
}

/** `/search`: a count, then the matches newest first. */
export function renderFound(result: SearchResult, q: string, style: Style): Line[] {
  const n = result.messages.length;
  return [
    {
      stream: 'out',
      text: style.notice(
        `${n} ${n === 1 ? 'message' : 'messages'} in #${sanitize(result.room)} match "${sanitize(q)}"`,
      ),
    },
    ...result.messages.map((m) => messageLine(m, style)),
  ];
}
