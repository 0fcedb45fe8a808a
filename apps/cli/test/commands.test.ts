import { describe, expect, it } from 'vitest';
import { parseLine } from '../src/commands';

describe('parseLine', () => {
  it.each([[''], ['   '], ['\t'], ['\r']])('ignores the blank line %j', (line) => {
    expect(parseLine(line)).toEqual({ kind: 'blank' });
  });

  it('sends any other line exactly as typed, minus a CRLF carriage return', () => {
    expect(parseLine('  hello  there ')).toEqual({ kind: 'say', text: '  hello  there ' });
    expect(parseLine('hello\r')).toEqual({ kind: 'say', text: 'hello' });
    expect(parseLine('exit now')).toEqual({ kind: 'say', text: 'exit now' });
  });

  it('sends a line starting with // as one starting with /', () => {
    expect(parseLine('//shrug')).toEqual({ kind: 'say', text: '/shrug' });
  });

  it.each([['/quit'], ['/exit'], ['exit'], ['  exit  '], ['/quit\r']])('%j quits', (line) => {
    expect(parseLine(line)).toEqual({ kind: 'quit' });
  });

  it.each([
    ['/help', { kind: 'help' }],
    ['/rooms', { kind: 'rooms' }],
    ['/who', { kind: 'who' }],
    ['/dms', { kind: 'dms' }],
    ['/history alice', { kind: 'history', with: 'alice' }],
    ['/more', { kind: 'more' }],
    ['/more bob', { kind: 'more', with: 'bob' }],
    ['/search  launch plan ', { kind: 'search', q: 'launch plan' }],
    ['/who  ', { kind: 'who' }],
  ])('parses %j', (line, command) => {
    expect(parseLine(line)).toEqual(command);
  });

  it('normalises the room of /join as the gateway will', () => {
    expect(parseLine('/join Dev-Ops')).toEqual({ kind: 'join', room: 'dev-ops' });
    expect(parseLine('/join   dev  ')).toEqual({ kind: 'join', room: 'dev' });
  });

  it.each(['/join -bad', '/join Bad!', '/join Bad Room!'])(
    'refuses %j as the gateway would, with its error',
    (line) => {
      expect(parseLine(line)).toEqual({
        kind: 'refused',
        error: {
          code: 'INVALID_ROOM',
          message: "room must be 1-32 of a-z, 0-9, '_', '-', starting with a letter or digit",
          retryable: false,
        },
      });
    },
  );

  it('keeps the spacing inside a direct message', () => {
    expect(parseLine('/msg bob  hi   there ')).toEqual({
      kind: 'msg',
      to: 'bob',
      text: 'hi   there',
    });
  });

  it.each([
    ['/join', 'usage: /join ROOM'],
    ['/msg', 'usage: /msg NAME TEXT'],
    ['/msg bob', 'usage: /msg NAME TEXT'],
    ['/msg bob    ', 'usage: /msg NAME TEXT'],
    ['/who lobby', 'usage: /who'],
    ['/dms alice', 'usage: /dms'],
    ['/history', 'usage: /history NAME'],
    ['/history alice bob', 'usage: /history NAME'],
    ['/rooms all', 'usage: /rooms'],
    ['/quit now', 'usage: /quit'],
    ['/nick bob', 'unknown command /nick (type /help for the list)'],
    ['/', 'unknown command / (type /help for the list)'],
    ['/ hello', 'unknown command / (type /help for the list)'],
  ])('answers %j with a usage hint', (line, hint) => {
    expect(parseLine(line)).toEqual({ kind: 'invalid', hint });
  });
});
