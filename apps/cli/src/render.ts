import {
  leftText,
  quietText,
  sanitize,
  type ChatError,
  type Synced,
  type UserRef,
} from '@chat/protocol';
import type { ClientEvent } from './events';
import type { Style } from './style';

/**
 * One line for the user, without its newline. `out` lines are events (stdout); `err` lines are
 * errors and diagnostics (stderr). The text is identical in terminal and pipe mode apart from
 * the colour codes a `Style` adds, and every string that came over the wire is sanitised.
 */
export interface Line {
  stream: 'out' | 'err';
  text: string;
}

const out = (text: string): Line => ({ stream: 'out', text });
const err = (text: string): Line => ({ stream: 'err', text });

function name(user: UserRef, style: Style): string {
  return style.name(sanitize(user.name), user.id);
}

function lostLine(count: number, room: string, style: Style): Line {
  return out(
    style.notice(
      `! ${count} messages in #${sanitize(room)} were lost (older than the history window, or lost by the server)`,
    ),
  );
}

/** A resume the server could not place in the room's log: what came after it is unknowable. */
function resetLine(synced: Synced, style: Style): Line {
  const room = sanitize(synced.room);
  const lost = synced.lost > 0 ? `; ${synced.lost} messages of the new history were lost too` : '';
  return out(
    style.notice(
      `! the history of #${room} was reset: what you missed there before cannot be replayed${lost}`,
    ),
  );
}

/** `error: <message> (<CODE>)`, the one format for every error a gateway reports. */
export function renderError(error: ChatError, style: Style): Line {
  return err(style.error(`error: ${sanitize(error.message)} (${sanitize(error.code)})`));
}

export interface RenderOptions {
  /**
   * Mark history and replayed messages `(earlier) [<name>] <text>` (terminal mode), so they
   * do not read as live. Pipe mode keeps one format for both. @default false
   */
  markHistory?: boolean;
}

/** The line an event shows as, or undefined for events that show nothing. */
export function renderEvent(
  event: ClientEvent,
  style: Style,
  options: RenderOptions = {},
): Line | undefined {
  switch (event.type) {
    case 'welcome': {
      const { user, node } = event.welcome;
      const verb = event.reconnected ? 'Reconnected as' : 'You joined as';
      return out(
        style.notice(`${verb} ${name(user, style)} (id ${user.id}, node ${sanitize(node)})`),
      );
    }
    case 'message': {
      const line = `${tag('', event.message.from, style)} ${sanitize(event.message.text)}`;
      const earlier = options.markHistory === true && event.message.history === true;
      return out(earlier ? `${style.notice('(earlier)')} ${line}` : line);
    }
    case 'dm': {
      const { message } = event;
      const who = event.mine
        ? tag('DM to ', message.to, style)
        : tag('DM from ', message.from, style);
      const line = `${who} ${sanitize(message.text)}`;
      const earlier = options.markHistory === true && message.offline === true;
      return out(earlier ? `${style.notice('(while you were away)')} ${line}` : line);
    }
    case 'joined':
      return out(style.notice(`${name(event.notice.user, style)} joined`));
    case 'left':
      return out(style.notice(leftText(name(event.notice.user, style), event.notice)));
    case 'synced':
      if (event.synced.renewed) {
        // The first epoch of a new room's log: nothing was there to lose.
        if (event.synced.seq === 0) return undefined;
        const room = sanitize(event.synced.room);
        return out(
          style.notice(`! the servers lost data: the history of #${room} starts again from here`),
        );
      }
      if (event.synced.restarted) return resetLine(event.synced, style);
      return event.synced.lost > 0
        ? lostLine(event.synced.lost, event.synced.room, style)
        : undefined;
    case 'quiet':
      return out(style.notice(quietText(sanitize(event.room), event.quiet)));
    case 'gap':
      return lostLine(event.gap.to - event.gap.from + 1, event.gap.room, style);
    case 'server-error':
      return renderError(event.error, style);
    case 'waiting':
      return err(
        style.notice(
          `! connected to ${sanitize(event.url)}, waiting for the cluster: ${sanitize(event.error.message)}`,
        ),
      );
    case 'connection-lost':
      return err(
        style.notice(
          `! lost connection to ${sanitize(event.url)} (${sanitize(event.reason)}), reconnecting`,
        ),
      );
  }
}

/** `[<prefix><name>]`, coloured as the sender. */
function tag(prefix: string, user: UserRef, style: Style): string {
  return style.name(`[${prefix}${sanitize(user.name)}]`, user.id);
}
