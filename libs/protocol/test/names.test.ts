import { describe, expect, it } from 'vitest';
import { nameKey, validateName, validateText, type Result } from '../src';

function errorCode<T>(result: Result<T>): string | undefined {
  return result.ok ? undefined : result.error.code;
}

/** Issue #11, point 8: each pair was online at the same time under the old `toLowerCase` key. */
describe('nameKey: names that look or fold alike are one name', () => {
  it.each([
    ['full case folding', 'Straße', 'STRASSE'],
    ['capital sharp s', 'GROẞ', 'gross'],
    ['long s', 'sam', 'ſam'],
    ['micro sign and Greek mu', 'µx', 'μx'],
    ['Cyrillic look-alikes', 'carol', 'саrol'],
    ['fullwidth letters', 'dave', 'ｄａｖｅ'],
    ['ligature', 'office', 'oﬃce'],
    ['digit zero for letter o', 'bob', 'b0b'],
    ['digit one for letter l', 'alice', 'a1ice'],
    ['ordinary case', 'alice', 'Alice'],
    ['decomposed accent', 'ZOË', 'zoe\u0308'],
    ['an invisible character (a DM to a name)', 'alice', 'al\u200bice'],
  ])('%s: %s and %s share a key', (_why, a, b) => {
    expect(nameKey(a)).toBe(nameKey(b));
  });

  it.each([
    ['alice', 'bob'],
    ['zoë', 'zoe'],
    ['名前', '名字'],
  ])('keeps %s and %s apart', (a, b) => {
    expect(nameKey(a)).not.toBe(nameKey(b));
  });

  it('is a fixed point: the key of a key is the key', () => {
    for (const name of [
      'Straße',
      'саrol',
      'ｄａｖｅ',
      'Zoë',
      'm',
      'rn',
      'B0B',
      'İstanbul',
      'ΣΑΣ',
    ]) {
      expect(nameKey(nameKey(name))).toBe(nameKey(name));
    }
  });
});

describe('validateName: invisible and reserved names', () => {
  it.each([
    ['Hangul filler', '\u3164'],
    ['halfwidth Hangul filler', '\uffa0'],
    ['Hangul filler inside a name', 'bob\u3164'],
    ['Hangul choseong filler', 'a\u115f'],
  ])('refuses a name with a %s', (_what, name) => {
    const result = validateName(name);
    expect(errorCode(result)).toBe('INVALID_NAME');
    expect(result.ok ? '' : result.error.message).toMatch(/invisible/);
  });

  it.each([['user١٢٣'], ['user１２３'], ['USER１'], ['usеr7'], ['Ｕｓｅｒ_4']])(
    'refuses %s: user<digits> is reserved in any script or width',
    (name) => {
      expect(errorCode(validateName(name))).toBe('INVALID_NAME');
    },
  );

  it.each([['user'], ['username1'], ['user1a'], ['Zoë']])('still accepts %s', (name) => {
    expect(validateName(name)).toEqual({ ok: true, value: name });
  });

  it('stores a compatibility form as its plain form (NFKC)', () => {
    expect(validateName('ｄａｖｅ')).toEqual({ ok: true, value: 'dave' });
    expect(validateName('oﬃce')).toEqual({ ok: true, value: 'office' });
    expect(validateName('ſam')).toEqual({ ok: true, value: 'sam' });
  });
});

describe('validateText: invisible-only text is blank', () => {
  it.each([
    ['zero-width spaces', '\u200b\u200b\u200b'],
    ['byte order mark', '\ufeff'],
    ['word joiner and soft hyphen', '\u2060\u00ad'],
    ['Hangul fillers', '\u3164\uffa0'],
    ['tag characters', '\u{e0041}\u{e0042}'],
    ['braille blank between spaces', ' \u2800 '],
  ])('refuses %s with EMPTY_TEXT', (_what, text) => {
    expect(errorCode(validateText(text))).toBe('EMPTY_TEXT');
  });

  it('keeps visible text that contains invisible characters, exactly as sent', () => {
    expect(validateText('a\u200bb')).toEqual({ ok: true, value: 'a\u200bb' });
  });
});
