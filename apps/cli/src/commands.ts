import { validateRoom, type ChatError } from '@chat/protocol';

/**
 * What one input line asks for. Both modes read lines through `parseLine`, so a script can use
 * every command a person can type.
 */
export type Command =
  /** Whitespace only: ignored. */
  | { kind: 'blank' }
  /** A message for the current room, exactly as typed. */
  | { kind: 'say'; text: string }
  | { kind: 'quit' }
  | { kind: 'help' }
  /** `room` is already normalised (lower case) by the protocol's own validation. */
  | { kind: 'join'; room: string }
  | { kind: 'rooms' }
  | { kind: 'who' }
  | { kind: 'msg'; to: string; text: string }
  /** Our private conversations, with unread counts. */
  | { kind: 'dms' }
  /** The newest messages of our conversation with `with`. */
  | { kind: 'history'; with: string }
  /**
   * The current room's messages before the earliest one shown (from the archive beyond the
   * window); with `with`, those of our conversation with that user.
   */
  | { kind: 'more'; with?: string }
  /** The current room's archived messages with these words. */
  | { kind: 'search'; q: string }
  /** A mistyped command: `hint` says what was expected. Nothing is sent. */
  | { kind: 'invalid'; hint: string }
  /**
   * A command the gateway would refuse, refused here with the gateway's own error, so it reads
   * like any refusal: `error: <message> (<CODE>)`. Nothing is sent.
   */
  | { kind: 'refused'; error: ChatError };

export const HELP: readonly string[] = [
  'Commands:',
  '  /join ROOM       leave the current room and join ROOM',
  '  /rooms           list rooms and how many are in each',
  '  /who             list the members of the current room',
  '  /msg NAME TEXT   send a direct message to NAME',
  '  /dms             list your private conversations and what you have not read',
  '  /history NAME    show your conversation with NAME (marks it read)',
  '  /more            show earlier messages of the current room',
  '  /more NAME       show earlier messages of your conversation with NAME',
  '  /search WORDS    find messages of the current room with these words',
  '  /help            show this help',
  '  /quit or exit    leave the chat (Ctrl-C and Ctrl-D too)',
  'Anything else is sent to the current room; start a line with // to send one beginning with /.',
];

const USAGE: Readonly<Record<string, string>> = {
  join: 'usage: /join ROOM',
  msg: 'usage: /msg NAME TEXT',
  dms: 'usage: /dms',
  history: 'usage: /history NAME',
  more: 'usage: /more or /more NAME',
  search: 'usage: /search WORDS',
  rooms: 'usage: /rooms',
  who: 'usage: /who',
  help: 'usage: /help',
  quit: 'usage: /quit',
};

/** Parses one line of input (a trailing `\r` from CRLF input is not part of it). */
export function parseLine(raw: string): Command {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.trim().length === 0) return { kind: 'blank' };
  if (line.trim() === 'exit') return { kind: 'quit' };
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'say', text: line };

  const match = /^\/(\S+)\s*(.*)$/s.exec(line);
  const verb = match?.[1] ?? '';
  const rest = (match?.[2] ?? '').trimEnd();
  switch (verb) {
    case 'quit':
    case 'exit':
    case 'help':
    case 'rooms':
    case 'who':
    case 'dms':
      if (rest !== '') return invalid(verb);
      return verb === 'exit' ? { kind: 'quit' } : { kind: verb };
    case 'join': {
      if (rest === '') return invalid(verb);
      const room = validateRoom(rest);
      return room.ok ? { kind: 'join', room: room.value } : { kind: 'refused', error: room.error };
    }
    case 'search':
      return rest.trim() === '' ? invalid(verb) : { kind: 'search', q: rest.trim() };
    case 'history':
      if (!/^\S+$/.test(rest)) return invalid(verb);
      return { kind: 'history', with: rest };
    case 'more':
      if (rest === '') return { kind: 'more' };
      if (!/^\S+$/.test(rest)) return invalid(verb);
      return { kind: 'more', with: rest };
    case 'msg': {
      const args = /^(\S+)\s+(.*\S.*)$/s.exec(rest);
      if (args?.[1] === undefined || args[2] === undefined) return invalid(verb);
      return { kind: 'msg', to: args[1], text: args[2] };
    }
    default:
      return { kind: 'invalid', hint: `unknown command /${verb} (type /help for the list)` };
  }
}

function invalid(verb: string): Command {
  return { kind: 'invalid', hint: USAGE[verb] ?? 'type /help for the list of commands' };
}
