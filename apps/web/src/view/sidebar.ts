import { sanitize, type RoomsResult, type UserRef } from '@chat/protocol';
import { el, replaceChildren } from './dom';

/**
 * Rooms with their member counts (a button each: switch to it) and the list labelled
 * `Members` of the current room (a button each: start a private message to them).
 */
export class Sidebar {
  private readonly roomList = el('ul', { 'aria-label': 'Rooms' });
  private readonly memberList = el('ul', { 'aria-label': 'Members' });
  readonly element = el(
    'aside',
    {},
    el('h2', {}, 'Rooms'),
    this.roomList,
    el('h2', {}, 'Members'),
    this.memberList,
  );

  constructor(
    private readonly actions: { join: (room: string) => void; dmTo: (name: string) => void },
  ) {}

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
