import { describe, expect, it } from 'vitest';
import { HELP } from '../src/commands';
import {
  renderDms,
  renderHelp,
  renderHint,
  renderHistory,
  renderJoined,
  renderRooms,
  renderWho,
} from '../src/replies';
import { chooseStyle, colourStyle, plainStyle } from '../src/style';

const texts = (lines: { text: string }[]): string[] => lines.map((l) => l.text);

describe('replies to commands', () => {
  it('confirms a join', () => {
    expect(renderJoined({ room: 'dev', seq: 4 }, plainStyle)).toEqual({
      stream: 'out',
      text: 'Now in #dev',
    });
  });

  it('lists conversations with what is unread, and a page of one, saying what is no longer kept', () => {
    const alice = { id: 1, name: 'alice' };
    const bob = { id: 2, name: 'bob' };
    const conversation = '1-2';
    expect(
      texts(
        renderDms(
          { conversations: [{ conversation, with: alice, seq: 7, unread: 2, ts: 0 }] },
          plainStyle,
        ),
      ),
    ).toEqual(['@alice: 2 unread (last #7)']);
    expect(texts(renderDms({ conversations: [] }, plainStyle))).toEqual([
      'No private conversations',
    ]);
    const dm = (seq: number, from: typeof alice, to: typeof alice, text: string) => ({
      id: `d${seq}`,
      from,
      to,
      text,
      ts: 0,
      conversation,
      seq,
    });
    const page = {
      conversation,
      with: alice,
      first: 6,
      head: 7,
      messages: [dm(6, alice, bob, 'hi'), dm(7, bob, alice, 'hello')],
    };
    expect(texts(renderHistory(page, bob, plainStyle))).toEqual([
      '! 5 earlier messages with alice are no longer kept',
      '[DM from alice] hi',
      '[DM to alice] hello',
    ]);
    // With an archive nothing is gone: earlier messages are there, beyond this page, or not.
    expect(texts(renderHistory({ ...page, more: true }, bob, plainStyle))[0]).toBe(
      '! earlier messages with alice are kept in the archive (not shown)',
    );
    expect(texts(renderHistory({ ...page, more: false }, bob, plainStyle))).toEqual([
      '[DM from alice] hi',
      '[DM to alice] hello',
    ]);
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
