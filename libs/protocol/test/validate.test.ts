import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  PROTOCOL_VERSION,
  chatError,
  isChatError,
  nameKey,
  parseDm,
  parseDms,
  parseHandshake,
  parseHistory,
  parseJoin,
  parseRooms,
  parseSearch,
  parseSend,
  parseWho,
  validateName,
  validateRoom,
  validateText,
  type Result,
} from '../src';

function errorCode<T>(result: Result<T>): string | undefined {
  return result.ok ? undefined : result.error.code;
}

describe('validateText', () => {
  it('keeps the text exactly as sent, control characters included', () => {
    const text = '  hi \u001b[31mred\u0007 ';
    expect(validateText(text)).toEqual({ ok: true, value: text });
  });

  it.each([[''], ['   '], ['\n\t '], ['\u00a0\u2003']])('refuses blank text %j', (text) => {
    expect(errorCode(validateText(text))).toBe('EMPTY_TEXT');
  });

  it.each([[undefined], [null], [42], [{}], [['a']]])('refuses a non-string %j', (text) => {
    expect(errorCode(validateText(text))).toBe('BAD_REQUEST');
  });

  it('counts code points, not UTF-16 units', () => {
    const emoji = '😀'.repeat(LIMITS.maxTextLength);
    expect(emoji.length).toBe(2 * LIMITS.maxTextLength);
    expect(validateText(emoji).ok).toBe(true);
    expect(errorCode(validateText(emoji + '😀'))).toBe('TEXT_TOO_LONG');
  });

  it('refuses text one character over the limit and accepts it at the limit', () => {
    expect(validateText('a'.repeat(LIMITS.maxTextLength)).ok).toBe(true);
    const tooLong = validateText('a'.repeat(LIMITS.maxTextLength + 1));
    expect(tooLong).toEqual({
      ok: false,
      error: {
        code: 'TEXT_TOO_LONG',
        message: `message text is longer than ${LIMITS.maxTextLength} characters`,
        retryable: false,
      },
    });
  });
});

describe('validateName', () => {
  it.each([['alice'], ['Bob_2'], ['zoë'], ['d.e-f'], ['名前'], ['a'.repeat(LIMITS.maxNameLength)]])(
    'accepts %s',
    (name) => {
      expect(validateName(name)).toEqual({ ok: true, value: name });
    },
  );

  it.each([
    [''],
    ['with space'],
    ['a'.repeat(LIMITS.maxNameLength + 1)],
    ['tab\t'],
    ['esc\u001b'],
    ['semi;colon'],
    ['User2'],
    ['user_17'],
    [7],
  ])('refuses %j with INVALID_NAME', (name) => {
    expect(errorCode(validateName(name))).toBe('INVALID_NAME');
  });

  it('normalises to NFC so look-alike encodings are one name', () => {
    const decomposed = 'zoe\u0308';
    expect(validateName(decomposed)).toEqual({ ok: true, value: 'zoë' });
    expect(nameKey('ZOË')).toBe(nameKey(decomposed));
  });
});

describe('validateRoom', () => {
  it('lower-cases room names', () => {
    expect(validateRoom('Lobby')).toEqual({ ok: true, value: 'lobby' });
  });

  it.each([[''], ['-dash'], ['has space'], ['a'.repeat(LIMITS.maxRoomLength + 1)], ['#x'], [1]])(
    'refuses %j with INVALID_ROOM',
    (room) => {
      expect(errorCode(validateRoom(room))).toBe('INVALID_ROOM');
    },
  );
});

describe('request parsers', () => {
  it('parses send and ignores unknown fields', () => {
    expect(parseSend({ text: 'hi', extra: 1 })).toEqual({ ok: true, value: { text: 'hi' } });
    expect(parseSend({ text: 'hi', room: 'Dev' })).toEqual({
      ok: true,
      value: { text: 'hi', room: 'dev' },
    });
  });

  it.each([[null], ['hi'], [['hi']], [42]])('refuses a send payload %j', (payload) => {
    expect(errorCode(parseSend(payload))).toBe('BAD_REQUEST');
  });

  it('parses join with and without since', () => {
    expect(parseJoin({ room: 'dev' })).toEqual({ ok: true, value: { room: 'dev' } });
    expect(parseJoin({ room: 'dev', since: 12 })).toEqual({
      ok: true,
      value: { room: 'dev', since: 12 },
    });
    expect(errorCode(parseJoin({ room: 'dev', since: -1 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseJoin({ room: 'dev', since: 1.5 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseJoin({ room: 'no way' }))).toBe('INVALID_ROOM');
  });

  it('accepts the room log epoch with since, in join and the handshake', () => {
    expect(parseJoin({ room: 'dev', since: 3, epoch: 'Ab_9-x' })).toEqual({
      ok: true,
      value: { room: 'dev', since: 3, epoch: 'Ab_9-x' },
    });
    expect(errorCode(parseJoin({ room: 'dev', since: 3, epoch: 'no spaces' }))).toBe('BAD_REQUEST');
    expect(errorCode(parseJoin({ room: 'dev', epoch: 7 }))).toBe('BAD_REQUEST');
    expect(parseHandshake({ v: PROTOCOL_VERSION, since: 4, epoch: 'e1' })).toMatchObject({
      ok: true,
      value: { since: 4, epoch: 'e1' },
    });
    expect(errorCode(parseHandshake({ epoch: 'x'.repeat(65) }))).toBe('BAD_REQUEST');
  });

  it('parses dm', () => {
    expect(parseDm({ to: 'bob', text: 'psst' })).toEqual({
      ok: true,
      value: { to: 'bob', text: 'psst' },
    });
    expect(errorCode(parseDm({ to: 3, text: 'x' }))).toBe('BAD_REQUEST');
    expect(errorCode(parseDm({ to: 'bob', text: ' ' }))).toBe('EMPTY_TEXT');
  });

  it('validates history pages and the dms list', () => {
    expect(parseHistory({ with: 'alice', before: 7, limit: 20 })).toEqual({
      ok: true,
      value: { kind: 'dm', with: 'alice', before: 7, limit: 20 },
    });
    expect(parseHistory({ with: 'alice' })).toEqual({
      ok: true,
      value: { kind: 'dm', with: 'alice' },
    });
    expect(errorCode(parseHistory({}))).toBe('BAD_REQUEST');
    expect(errorCode(parseHistory({ with: 'alice', limit: 0 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHistory({ with: 'alice', limit: 201 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHistory({ with: 'alice', before: -1 }))).toBe('BAD_REQUEST');
    expect(parseHistory({ with: 'alice', before: 3, beforeTs: 1_700_000_000_000 })).toEqual({
      ok: true,
      value: { kind: 'dm', with: 'alice', before: 3, beforeTs: 1_700_000_000_000 },
    });
    expect(errorCode(parseHistory({ with: 'alice', beforeTs: 5 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHistory({ with: 'alice', before: 3, beforeTs: 'x' }))).toBe(
      'BAD_REQUEST',
    );
    expect(parseHistory({ room: 'Dev', before: 900, epoch: 'e_1', limit: 5 })).toEqual({
      ok: true,
      value: { kind: 'room', room: 'dev', before: 900, epoch: 'e_1', limit: 5 },
    });
    expect(errorCode(parseHistory({ room: 'dev', with: 'alice' }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHistory({ room: 'no rooms' }))).toBe('INVALID_ROOM');
    expect(errorCode(parseHistory({ room: 'dev', epoch: 'x y' }))).toBe('BAD_REQUEST');
    expect(parseDms({})).toEqual({ ok: true, value: {} });
    expect(errorCode(parseDms('x'))).toBe('BAD_REQUEST');
  });

  it('validates search: words, an optional room and a bounded limit', () => {
    expect(parseSearch({ q: '  launch plan ', room: 'dev', limit: 5 })).toEqual({
      ok: true,
      value: { q: 'launch plan', room: 'dev', limit: 5 },
    });
    expect(parseSearch({ q: 'x' })).toEqual({ ok: true, value: { q: 'x' } });
    expect(errorCode(parseSearch({ q: '   ' }))).toBe('BAD_REQUEST');
    expect(errorCode(parseSearch({ q: 'x'.repeat(201) }))).toBe('BAD_REQUEST');
    expect(errorCode(parseSearch({ q: 'x', limit: 101 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseSearch({ q: 'x', room: '#' }))).toBe('INVALID_ROOM');
    expect(errorCode(parseSearch('x'))).toBe('BAD_REQUEST');
  });

  it('accepts DM positions in the handshake, and only conversation ids with seqs', () => {
    expect(parseHandshake({ dms: { '3-9': 4 } })).toEqual({
      ok: true,
      value: { dms: { '3-9': 4 } },
    });
    expect(errorCode(parseHandshake({ dms: { lobby: 4 } }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHandshake({ dms: { '3-9': 'x' } }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHandshake({ dms: [] }))).toBe('BAD_REQUEST');
    const many = Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`1-${i + 2}`, 1]));
    expect(errorCode(parseHandshake({ dms: many }))).toBe('BAD_REQUEST');
  });

  it('parses who and rooms with optional payloads', () => {
    expect(parseWho(undefined)).toEqual({ ok: true, value: {} });
    expect(parseWho({ room: 'dev' })).toEqual({ ok: true, value: { room: 'dev' } });
    expect(errorCode(parseWho('dev'))).toBe('BAD_REQUEST');
    expect(parseRooms(undefined).ok).toBe(true);
    expect(errorCode(parseRooms(5))).toBe('BAD_REQUEST');
  });
});

describe('parseHandshake', () => {
  it('accepts an empty handshake', () => {
    expect(parseHandshake(undefined)).toEqual({ ok: true, value: {} });
    expect(parseHandshake({})).toEqual({ ok: true, value: {} });
  });

  it('validates every field', () => {
    expect(
      parseHandshake({ v: PROTOCOL_VERSION, name: 'alice', room: 'Dev', since: 4, resume: 'r' }),
    ).toEqual({
      ok: true,
      value: { v: PROTOCOL_VERSION, name: 'alice', room: 'dev', since: 4, resume: 'r' },
    });
    expect(errorCode(parseHandshake({ v: 99 }))).toBe('VERSION_MISMATCH');
    expect(errorCode(parseHandshake({ name: 'no spaces' }))).toBe('INVALID_NAME');
    expect(errorCode(parseHandshake({ room: '' }))).toBe('INVALID_ROOM');
    expect(errorCode(parseHandshake({ token: 5 }))).toBe('BAD_REQUEST');
    expect(errorCode(parseHandshake('x'))).toBe('BAD_REQUEST');
  });
});

describe('errors', () => {
  it('marks only transient errors retryable', () => {
    expect(chatError('UNAVAILABLE').retryable).toBe(true);
    expect(chatError('OUTCOME_UNKNOWN').retryable).toBe(true);
    expect(chatError('RATE_LIMITED').retryable).toBe(true);
    expect(chatError('NAME_TAKEN').retryable).toBe(false);
    expect(chatError('EMPTY_TEXT', 'custom')).toEqual({
      code: 'EMPTY_TEXT',
      message: 'custom',
      retryable: false,
    });
  });

  it('recognises error objects from the wire', () => {
    expect(isChatError(chatError('NAME_TAKEN'))).toBe(true);
    expect(isChatError({ code: 'NOPE', message: 'x', retryable: false })).toBe(false);
    expect(isChatError('NAME_TAKEN')).toBe(false);
  });
});

describe('send cid', () => {
  it('keeps a valid cid and refuses a bad one', () => {
    expect(parseSend({ text: 'hi', cid: 'c-1' })).toEqual({
      ok: true,
      value: { text: 'hi', cid: 'c-1' },
    });
    expect(errorCode(parseSend({ text: 'hi', cid: '' }))).toBe('BAD_REQUEST');
    expect(errorCode(parseSend({ text: 'hi', cid: 'x'.repeat(65) }))).toBe('BAD_REQUEST');
    expect(errorCode(parseSend({ text: 'hi', cid: 5 }))).toBe('BAD_REQUEST');
  });
});

describe('a retry generation', () => {
  it('keeps the generation of a send or dm retry, only with its cid', () => {
    expect(parseSend({ text: 'hi', cid: 'c-1', generation: 'g_1-x' })).toEqual({
      ok: true,
      value: { text: 'hi', cid: 'c-1', generation: 'g_1-x' },
    });
    expect(parseDm({ to: 'bob', text: 'hi', cid: 'c-1', generation: 'g1' })).toEqual({
      ok: true,
      value: { to: 'bob', text: 'hi', cid: 'c-1', generation: 'g1' },
    });
    expect(errorCode(parseSend({ text: 'hi', generation: 'g1' }))).toBe('BAD_REQUEST');
    expect(errorCode(parseDm({ to: 'bob', text: 'hi', cid: 'c', generation: '' }))).toBe(
      'BAD_REQUEST',
    );
    expect(errorCode(parseSend({ text: 'hi', cid: 'c', generation: 'a b' }))).toBe('BAD_REQUEST');
  });

  it('refuses a retry whose records the broker lost for good: not retryable', () => {
    expect(chatError('RECORDS_LOST')).toMatchObject({ code: 'RECORDS_LOST', retryable: false });
  });
});
