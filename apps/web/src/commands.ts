/**
 * What the composer understands: the CLI's commands (`/join ROOM`, `/who`, `/rooms`,
 * `/msg NAME text`, `/help`); anything else is a message (`//x` sends `/x`). Checking names
 * and rooms is the gateway's job: `/join Bad Room!` goes out as is and its refusal is shown
 * like any other (`error: ... (INVALID_ROOM)`).
 */
export type Command =
  | { kind: 'send'; text: string }
  | { kind: 'dm'; to: string; text: string }
  | { kind: 'join'; room: string }
  | { kind: 'who' }
  | { kind: 'rooms' }
  | { kind: 'help' }
  | { kind: 'usage'; text: string };

export const HELP = [
  'Commands:',
  '/join ROOM — move to another room',
  '/who — who is in this room',
  '/rooms — rooms with people in them',
  '/msg NAME text — a private message (or pick a member)',
  '//text — a message that starts with /',
];

/** The command a composer line stands for; undefined for a blank line (nothing to do). */
export function parseCommand(line: string): Command | undefined {
  if (line.trim() === '') return undefined;
  if (line.startsWith('//')) return { kind: 'send', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'send', text: line };
  const match = /^\/(\S+)\s*(.*)$/su.exec(line);
  const word = match?.[1]?.toLowerCase() ?? '';
  const rest = match?.[2] ?? '';
  switch (word) {
    case 'join':
      return rest.trim() === ''
        ? { kind: 'usage', text: 'usage: /join ROOM' }
        : { kind: 'join', room: rest.trim() };
    case 'who':
      return { kind: 'who' };
    case 'rooms':
      return { kind: 'rooms' };
    case 'help':
      return { kind: 'help' };
    case 'msg': {
      const dm = /^(\S+)\s+(.+)$/su.exec(rest);
      return dm?.[1] === undefined || dm[2] === undefined
        ? { kind: 'usage', text: 'usage: /msg NAME text' }
        : { kind: 'dm', to: dm[1], text: dm[2] };
    }
    default:
      return { kind: 'usage', text: `unknown command /${word}: try /help` };
  }
}
