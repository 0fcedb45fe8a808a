import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/commands';

describe('parseCommand (the composer)', () => {
  it.each([
    ['hello', { kind: 'send', text: 'hello' }],
    ['//join is a word', { kind: 'send', text: '/join is a word' }],
    ['/join dev', { kind: 'join', room: 'dev' }],
    ['/join Bad Room!', { kind: 'join', room: 'Bad Room!' }],
    ['/msg bob  hi  there', { kind: 'dm', to: 'bob', text: 'hi  there' }],
    ['/who', { kind: 'who' }],
    ['/rooms', { kind: 'rooms' }],
    ['/help', { kind: 'help' }],
    ['/join', { kind: 'usage', text: 'usage: /join ROOM' }],
    ['/msg bob', { kind: 'usage', text: 'usage: /msg NAME text' }],
    ['/nick x', { kind: 'usage', text: 'unknown command /nick: try /help' }],
  ])('reads %j', (line, command) => {
    expect(parseCommand(line)).toEqual(command);
  });

  it('ignores a blank line', () => {
    expect(parseCommand('   ')).toBeUndefined();
  });
});
