import { describe, expect, it } from 'vitest';
import { HELP } from '../src/commands';
import { renderHelp, renderHint, renderJoined, renderRooms, renderWho } from '../src/replies';
import { chooseStyle, colourStyle, plainStyle } from '../src/style';

const texts = (lines: { text: string }[]): string[] => lines.map((l) => l.text);

describe('replies to commands', () => {
  it('confirms a join', () => {
    expect(renderJoined({ room: 'dev', seq: 4 }, plainStyle)).toEqual({
      stream: 'out',
      text: 'Now in #dev',
    });
  });

  it('lists rooms one per line with their member counts', () => {
    const rooms = [
      { room: 'lobby', members: 3 },
      { room: 'dev', members: 1 },
    ];
    expect(texts(renderRooms({ rooms }, plainStyle))).toEqual([
      '#lobby (3 members)',
      '#dev (1 member)',
    ]);
    expect(texts(renderRooms({ rooms: [] }, plainStyle))).toEqual(['No rooms']);
  });

  it('lists the members of a room, marking ourselves', () => {
    const members = [
      { id: 1, name: 'alice' },
      { id: 2, name: 'bob\x1b' },
    ];
    expect(renderWho({ room: 'lobby', members }, { id: 1, name: 'alice' }, plainStyle).text).toBe(
      'Members of #lobby (2): alice (you), bob\\x1b',
    );
    expect(renderWho({ room: 'x', members: [] }, undefined, plainStyle).text).toBe(
      'Members of #x (0): nobody',
    );
  });

  it('prints help and hints', () => {
    expect(texts(renderHelp(plainStyle))).toEqual(HELP);
    expect(renderHint('usage: /join ROOM', plainStyle)).toEqual({
      stream: 'err',
      text: 'usage: /join ROOM',
    });
  });
});

describe('chooseStyle', () => {
  it('colours only a terminal without NO_COLOR, whatever NO_COLOR is set to', () => {
    expect(chooseStyle({}, true)).toBe(colourStyle);
    expect(chooseStyle({}, false)).toBe(plainStyle);
    expect(chooseStyle({ NO_COLOR: '1' }, true)).toBe(plainStyle);
    expect(chooseStyle({ NO_COLOR: '' }, true)).toBe(plainStyle);
  });
});
