import { leftText, quietText, sanitize, type ChatError } from '@chat/protocol';
import { HELP, parseCommand } from '../commands';
import type { ChatSession } from '../session';
import type { SessionEvent } from '../session-event';
import { Conversation } from './conversation';
import { el } from './dom';
import { Sidebar } from './sidebar';

/** `error: <message> (<CODE>)`: every refusal reads the same here as in the CLI. */
export function errorText(error: ChatError): string {
  return `error: ${sanitize(error.message)} (${sanitize(error.code)})`;
}

/**
 * The page after joining: a status line (role `status`, `node <node id>` while connected),
 * the `Rooms`, `Conversations` and `Members` lists, the conversation (role `log`) and the `Message` field, which
 * sends on Enter and understands the CLI's commands.
 */
export class ChatView {
  readonly element: HTMLElement;
  private readonly status = el('p', { role: 'status' }, 'connecting…');
  private readonly title = el('h1', {}, '#');
  private readonly conversation = new Conversation();
  private readonly input = el('input', {
    name: 'message',
    autocomplete: 'off',
    enterkeyhint: 'send',
  });
  private readonly sidebar: Sidebar;
  private me = '';
  private myId: number | undefined;
  private node = '';

  constructor(private readonly session: ChatSession) {
    this.sidebar = new Sidebar({
      join: (room) => session.join(room),
      dmTo: (name) => {
        this.input.value = `/msg ${name} `;
        this.input.focus();
      },
      open: (name) => session.history(name),
    });
    const composer = el(
      'form',
      { class: 'composer' },
      el('label', {}, 'Message', this.input),
      el('button', { type: 'submit' }, 'Send'),
    );
    composer.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit(this.input.value);
      this.input.value = '';
    });
    // Scrolling the log to its top loads the room's earlier messages; the button does it from
    // the keyboard.
    const earlier = el('button', { type: 'button', class: 'earlier' }, 'Earlier messages');
    earlier.addEventListener('click', () => session.earlier());
    this.conversation.element.addEventListener('scroll', () => {
      if (this.conversation.element.scrollTop <= 0) session.earlier();
    });
    this.element = el(
      'div',
      { class: 'chat' },
      el('header', {}, this.title, this.status),
      el(
        'div',
        { class: 'layout' },
        this.sidebar.element,
        el('section', { class: 'conversation' }, earlier, this.conversation.element, composer),
      ),
    );
    this.element.style.display = 'contents';
  }

  focus(): void {
    this.input.focus();
  }

  private submit(line: string): void {
    const command = parseCommand(line);
    switch (command?.kind) {
      case undefined:
        return;
      case 'send':
        return this.session.send(command.text);
      case 'dm':
        return this.session.dm(command.to, command.text);
      case 'join':
        return this.session.join(command.room);
      case 'who':
        return this.session.who(true);
      case 'rooms':
        return this.session.rooms(true);
      case 'help':
        return HELP.forEach((text) => this.conversation.notice(text));
      case 'usage':
        return this.conversation.error(command.text);
    }
  }

  /** Renders one session event. */
  show(event: SessionEvent): void {
    const log = this.conversation;
    switch (event.type) {
      case 'welcome': {
        const { user, node, room } = event.welcome;
        this.me = user.name;
        this.myId = user.id;
        this.node = node;
        const verb = event.reconnected ? 'Reconnected as' : 'You joined as';
        log.notice(`${verb} ${sanitize(user.name)} (id ${user.id}, node ${sanitize(node)})`);
        this.setRoom(room);
        return;
      }
      case 'connection':
        this.status.className = 'offline';
        this.status.textContent =
          event.state === 'offline'
            ? `offline: reconnecting… (${sanitize(event.detail)})`
            : `waiting for the cluster: ${sanitize(event.detail)}`;
        return;
      case 'message':
        return log.message(event.message);
      case 'synced':
        this.setRoom(event.synced.room);
        log.synced(event.synced.room, event.synced.replayed);
        if (event.synced.quiet) log.notice(quietText(sanitize(event.synced.room), true));
        return;
      case 'dm': {
        // A DM we sent from another client arrives too (each client sees the whole conversation).
        const { from, to, text } = event.message;
        return from.id === this.myId ? log.dm('to', to, text) : log.dm('from', from, text);
      }
      case 'joined':
      case 'left': {
        const { notice } = event;
        const who = sanitize(notice.user.name);
        log.notice(event.type === 'joined' ? `${who} joined` : leftText(who, event.notice));
        if (notice.quiet !== undefined) log.notice(quietText(sanitize(notice.room), notice.quiet));
        return;
      }
      case 'renewed':
        return log.notice(
          `! the servers lost data: the history of #${sanitize(event.room)} starts again from here`,
        );
      case 'lost':
        return log.notice(
          `! ${event.count} messages in #${sanitize(event.room)} were lost (older than the history window)`,
        );
      case 'error':
        return log.error(errorText(event.error));
      case 'queued':
        if (event.line.kind === 'send') return log.own(this.me, event.line.text, event.line.cid);
        return log.dm('to', event.line.to ?? '', event.line.text, event.line.cid);
      case 'acked':
        return log.acked(event.line.cid);
      case 'line-refused':
        if (event.error.code === 'RECORDS_LOST') {
          return log.refused(
            event.line.cid,
            `! not sure this was sent: the server lost its records; send it again if it did not arrive`,
          );
        }
        return log.refused(event.line.cid, errorText(event.error));
      case 'members':
        this.sidebar.members(event.members, this.me);
        if (event.asked) {
          const names = event.members.map((user) => sanitize(user.name)).join(', ');
          log.notice(`In #${sanitize(event.room)}: ${names}`);
        }
        return;
      case 'rooms':
        this.sidebar.rooms(event.rooms, this.session.currentRoom);
        if (event.asked) {
          const rooms = event.rooms.map((r) => `#${sanitize(r.room)} (${r.members})`).join(', ');
          log.notice(`Rooms: ${rooms || 'none'}`);
        }
        return;
      case 'conversations':
        return this.sidebar.conversations(event.conversations);
      case 'history':
        return log.dmHistory(event.result, this.myId, (peer) => this.session.earlierWith(peer));
      case 'dm-earlier':
        return log.dmEarlier(event.result, this.myId);
      case 'earlier':
        return log.earlier(event.result);
      case 'refused':
        // Handled by the page (back to the join form); shown here too if it comes later.
        return log.error(errorText(event.error));
    }
  }

  private setRoom(room: string): void {
    this.title.textContent = `#${sanitize(room)}`;
    this.status.className = '';
    this.status.textContent = `connected as ${sanitize(this.me)} · node ${sanitize(this.node)} · #${sanitize(room)}`;
    this.input.placeholder = `message #${sanitize(room)}, or /help`;
  }
}
