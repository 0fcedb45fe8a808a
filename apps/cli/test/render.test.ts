import { chatError, type ChatMessage, type UserRef } from '@chat/protocol';
import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../src/events';
import { renderError, renderEvent } from '../src/render';
import { colourStyle, plainStyle } from '../src/style';

const bob: UserRef = { id: 2, name: 'bob' };
const message = (text: string, from: UserRef = bob): ChatMessage => ({
  id: 'm1',
  room: 'lobby',
  seq: 1,
  from,
  text,
  ts: 0,
});
const plain = (event: ClientEvent) => renderEvent(event, plainStyle);
const welcome = { v: 1, user: { id: 7, name: 'alice' }, node: 'gw-1', room: 'lobby' };

describe('renderEvent', () => {
  it.each<[string, ClientEvent, string]>([
    [
      'first welcome',
      { type: 'welcome', welcome: { ...welcome, resumeToken: 't' }, reconnected: false },
      'You joined as alice (id 7, node gw-1)',
    ],
    [
      'welcome after a reconnect',
      { type: 'welcome', welcome: { ...welcome, resumeToken: 't' }, reconnected: true },
      'Reconnected as alice (id 7, node gw-1)',
    ],
    ['room message', { type: 'message', message: message('hi all') }, '[bob] hi all'],
    [
      'history message',
      { type: 'message', message: { ...message('earlier'), history: true } },
      '[bob] earlier',
    ],
    [
      'direct message',
      {
        type: 'dm',
        mine: false,
        message: {
          id: 'd',
          from: bob,
          to: welcome.user,
          text: 'psst',
          ts: 0,
          conversation: '1-2',
          seq: 1,
        },
      },
      '[DM from bob] psst',
    ],
    [
      'join notice',
      { type: 'joined', notice: { room: 'lobby', user: { id: 3, name: 'User 3' } } },
      'User 3 joined',
    ],
    [
      'join notice that makes the room quiet (the flag adds its own line)',
      { type: 'joined', notice: { room: 'lobby', user: bob, quiet: true } },
      'bob joined',
    ],
    [
      'a large room',
      { type: 'quiet', room: 'lobby', quiet: true },
      '! #lobby is a large room: joins and leaves are not shown (/who lists its members)',
    ],
    [
      'a room small again',
      { type: 'quiet', room: 'lobby', quiet: false },
      '! #lobby is small again: joins and leaves are shown',
    ],
    ['quit', { type: 'left', notice: { room: 'lobby', user: bob, reason: 'quit' } }, 'bob left'],
    [
      'leave after a node failure',
      { type: 'left', notice: { room: 'lobby', user: bob, reason: 'node-failure' } },
      'bob left (node failure)',
    ],
    [
      'leave after a lost connection',
      { type: 'left', notice: { room: 'lobby', user: bob, reason: 'disconnected' } },
      'bob left (lost connection)',
    ],
    [
      'move to a named room',
      { type: 'left', notice: { room: 'lobby', user: bob, reason: 'moved', to: 'dev' } },
      'bob left (moved to #dev)',
    ],
    [
      'move to an unnamed room',
      { type: 'left', notice: { room: 'lobby', user: bob, reason: 'moved' } },
      'bob left (moved to another room)',
    ],
    [
      'gap',
      { type: 'gap', gap: { room: 'dev', from: 11, to: 15 } },
      '! 5 messages in #dev were lost (older than the history window, or lost by the server)',
    ],
    [
      'synced with losses',
      { type: 'synced', synced: { room: 'lobby', seq: 90, replayed: 50, lost: 40 } },
      '! 40 messages in #lobby were lost (older than the history window, or lost by the server)',
    ],
    [
      'synced after a history reset',
      {
        type: 'synced',
        synced: { room: 'lobby', seq: 12, replayed: 10, lost: 2, restarted: true, epoch: 'e2' },
      },
      '! the history of #lobby was reset: what you missed there before cannot be replayed; 2 messages of the new history were lost too',
    ],
    [
      'new epoch of the room',
      {
        type: 'synced',
        synced: { room: 'lobby', seq: 7, replayed: 0, lost: 0, epoch: 'e3', renewed: true },
      },
      '! the servers lost data: the history of #lobby starts again from here',
    ],
  ])('shows a %s on stdout', (_what, event, text) => {
    expect(plain(event)).toEqual({ stream: 'out', text });
  });

  it("shows nothing for a new room's first epoch (seq 0: nothing was lost)", () => {
    const first: ClientEvent = {
      type: 'synced',
      synced: { room: 'lobby', seq: 0, replayed: 0, lost: 0, epoch: 'e1', renewed: true },
    };
    expect(renderEvent(first, plainStyle)).toBeUndefined();
  });

  it('marks history as earlier only when asked (terminal mode)', () => {
    const old: ClientEvent = { type: 'message', message: { ...message('before'), history: true } };
    expect(plain(old)).toEqual({ stream: 'out', text: '[bob] before' });
    expect(renderEvent(old, plainStyle, { markHistory: true })).toEqual({
      stream: 'out',
      text: '(earlier) [bob] before',
    });
    const live: ClientEvent = { type: 'message', message: message('now') };
    expect(renderEvent(live, plainStyle, { markHistory: true })).toEqual({
      stream: 'out',
      text: '[bob] now',
    });
  });

  it('shows nothing for a synced without losses', () => {
    const synced = { room: 'lobby', seq: 90, replayed: 3, lost: 0 };
    expect(plain({ type: 'synced', synced })).toBeUndefined();
  });

  it('puts errors and lost connections on stderr', () => {
    expect(plain({ type: 'server-error', error: chatError('UNKNOWN_EVENT') })).toEqual({
      stream: 'err',
      text: 'error: unknown event (UNKNOWN_EVENT)',
    });
    expect(
      plain({ type: 'connection-lost', url: 'http://a:1', reason: 'transport close' }),
    ).toEqual({
      stream: 'err',
      text: '! lost connection to http://a:1 (transport close), reconnecting',
    });
    expect(renderError(chatError('RATE_LIMITED'), plainStyle)).toEqual({
      stream: 'err',
      text: 'error: too many messages, slow down (RATE_LIMITED)',
    });
  });

  it('sanitises names, text, rooms, node ids and error messages', () => {
    const evil: UserRef = { id: 9, name: 'eve\x1b[8m' };
    expect(plain({ type: 'message', message: message('a\nb\u202e', evil) })?.text).toBe(
      '[eve\\x1b[8m] a\\nb\\u202e',
    );
    expect(
      plain({
        type: 'welcome',
        welcome: { ...welcome, node: 'n\r', resumeToken: '' },
        reconnected: false,
      })?.text,
    ).toBe('You joined as alice (id 7, node n\\r)');
    expect(plain({ type: 'gap', gap: { room: 'x\x07', from: 1, to: 1 } })?.text).toContain(
      '#x\\x07',
    );
    expect(
      renderError({ code: 'INTERNAL', message: 'boom\x1b]0;t\x07', retryable: true }, plainStyle)
        .text,
    ).toBe('error: boom\\x1b]0;t\\x07 (INTERNAL)');
  });

  it('keeps a forged line on the row of the message that carries it', () => {
    const mallory: UserRef = { id: 6, name: 'mallory' };
    const text = `see you${' '.repeat(200)}[admin] server restarts, reconnect to evil.example`;
    expect(plain({ type: 'message', message: message(text, mallory) })?.text).toBe(
      '[mallory] see you [admin] server restarts, reconnect to evil.example',
    );
  });

  it('shows invisible characters in names and text as escapes', () => {
    const ghost: UserRef = { id: 8, name: 'b\u200bob' };
    expect(plain({ type: 'message', message: message('\u2060\ufeff\u{e0041}', ghost) })?.text).toBe(
      '[b\\u200bob] \\u2060\\ufeff\\u{e0041}',
    );
  });

  it('produces no control byte at all in plain style, whatever the input', () => {
    const nasty =
      Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join('') +
      '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    const events: ClientEvent[] = [
      { type: 'message', message: message(nasty, { id: 1, name: nasty }) },
      {
        type: 'dm',
        mine: false,
        message: {
          id: 'd',
          from: { id: 1, name: nasty },
          to: bob,
          text: nasty,
          ts: 0,
          conversation: '1-2',
          seq: 1,
        },
      },
      { type: 'joined', notice: { room: nasty, user: { id: 1, name: nasty } } },
      { type: 'left', notice: { room: nasty, user: { id: 1, name: nasty }, reason: 'quit' } },
      { type: 'server-error', error: { code: 'INTERNAL', message: nasty, retryable: false } },
    ];
    for (const event of events) {
      const bytes = Buffer.from(`${plain(event)?.text ?? ''}\n`, 'utf8');
      expect([...bytes].filter((b) => b < 0x20 || b === 0x7f)).toEqual([0x0a]);
      expect(bytes.toString('utf8')).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
  });

  it('colours names per user, dims notices and reddens errors, with the same visible text', () => {
    const line = renderEvent({ type: 'message', message: message('hi') }, colourStyle);
    expect(line?.text).toBe('\x1b[34m[bob]\x1b[39m hi');
    const joined = renderEvent(
      { type: 'joined', notice: { room: 'lobby', user: bob } },
      colourStyle,
    );
    expect(joined?.text).toBe('\x1b[2m\x1b[34mbob\x1b[39m joined\x1b[22m');
    const error = renderError(chatError('NOT_JOINED'), colourStyle);
    expect(error.text).toBe('\x1b[31merror: not joined (NOT_JOINED)\x1b[39m');
    // eslint-disable-next-line no-control-regex -- stripping the colour codes
    const strip = (text = ''): string => text.replace(/\x1b\[\d+m/g, '');
    expect(strip(joined?.text)).toBe('bob joined');
  });
});
