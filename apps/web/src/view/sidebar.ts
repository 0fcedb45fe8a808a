import { sanitize, type ConversationSummary, type RoomsResult, type UserRef } from '@chat/protocol';
import { el, replaceChildren } from './dom';

/**
 * Rooms with their member counts (a button each: switch to it), the list labelled
 * `Conversations` (the user's private conversations, most recent first, with the unread count
 * when there is one: a button each, which loads its recent history and so marks it read) and the
 * list labelled `Members` of the current room (a button each: start a private message to them).
 */
export class Sidebar {
  private readonly roomList = el('ul', { 'aria-label': 'Rooms' });
  private readonly memberList = el('ul', { 'aria-label': 'Members' });
  private readonly conversationList = el('ul', { 'aria-label': 'Conversations' });
  readonly element = el(
    'aside',
    {},
    el('h2', {}, 'Rooms'),
    this.roomList,
    el('h2', {}, 'Conversations'),
    this.conversationList,
    el('h2', {}, 'Members'),
    this.memberList,
  );

  constructor(
    private readonly actions: {
      join: (room: string) => void;
      dmTo: (name: string) => void;
      open: (name: string) => void;
    },
  ) {}

  /** `bob (2)`: the other participant and, when some are unread, how many. */
  conversations(conversations: ConversationSummary[]): void {
    replaceChildren(
      this.conversationList,
      conversations.map((entry) => {
        const name = sanitize(entry.with.name);
        const button = el(
          'button',
          { type: 'button', title: `conversation with ${name}` },
          entry.unread > 0 ? `${name} (${entry.unread})` : name,
        );
        if (entry.unread > 0) button.classList.add('unread');
        button.addEventListener('click', () => this.actions.open(entry.with.name));
        return el('li', {}, button);
      }),
    );
  }

  rooms(rooms: RoomsResult['rooms'], current: string): void {
    const shown = rooms.some((entry) => entry.room === current)
      ? rooms
      : [{ room: current, members: 1 }, ...rooms];
    replaceChildren(
      this.roomList,
      shown.map(({ room, members }) => {
        const button = el(
          'button',
          { type: 'button', 'aria-current': String(room === current) },
          `#${sanitize(room)} (${members})`,
        );
        button.addEventListener('click', () => this.actions.join(room));
        return el('li', {}, button);
      }),
    );
  }

  members(members: UserRef[], me: string): void {
    replaceChildren(
      this.memberList,
      members.map((user) => {
        const name = sanitize(user.name);
        if (user.name === me) return el('li', {}, `${name} (you)`);
        const button = el('button', { type: 'button', title: `private message to ${name}` }, name);
        button.addEventListener('click', () => this.actions.dmTo(user.name));
        return el('li', {}, button);
      }),
    );
  }
}
