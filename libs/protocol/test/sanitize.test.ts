import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitize } from '../src/sanitize';

/** Code points that must never reach the terminal raw. */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- that is what is being checked for
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/**
 * Invisible code points: never raw, except the joiner and variation selectors inside an emoji
 * sequence (`👨‍👩‍👧`, `❤️`), where they draw the emoji rather than hide anything.
 */
const INVISIBLE = /(?!\u200d|\ufe0e|\ufe0f)[\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
const ANY_INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
const SPACE_RUN = /\p{Zs}{4}/u;

describe('sanitize', () => {
  it('keeps ordinary text, including non-Latin scripts, emoji and backslashes', () => {
    for (const text of ['hello', 'héllo wörld', 'こんにちは', 'مرحبا', '😀👍🏽', 'C:\\path\\x1b']) {
      expect(sanitize(text)).toBe(text);
    }
  });

  it.each([
    ['newline', 'a\nb', 'a\\nb'],
    ['carriage return', 'a\rb', 'a\\rb'],
    ['tab', 'a\tb', 'a\\tb'],
    ['NUL', '\0', '\\x00'],
    ['bell', '\x07', '\\x07'],
    ['backspace', 'ab\bc', 'ab\\x08c'],
    ['ESC colour sequence', '\x1b[31mred', '\\x1b[31mred'],
    ['ESC clear screen', '\x1b[2J\x1b[H', '\\x1b[2J\\x1b[H'],
    ['OSC window title', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['unit separator', '\x1f', '\\x1f'],
    ['DEL', '\x7f', '\\x7f'],
    ['C1 CSI', '\u009b31m', '\\x9b31m'],
    ['C1 NEL', '\u0085', '\\x85'],
    ['C1 range ends', '\u0080\u009f', '\\x80\\x9f'],
    ['RLO override', 'abc\u202edef', 'abc\\u202edef'],
    ['LRE..RLO', '\u202a\u202b\u202c\u202d\u202e', '\\u202a\\u202b\\u202c\\u202d\\u202e'],
    ['isolates', '\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
    ['bidi marks', '\u200e\u200f\u061c', '\\u200e\\u200f\\u061c'],
    ['line and paragraph separators', '\u2028\u2029', '\\u2028\\u2029'],
    ['zero-width space', 'ad\u200bmin', 'ad\\u200bmin'],
    ['zero-width non-joiner', 'a\u200cb', 'a\\u200cb'],
    ['a lone zero-width joiner', 'a\u200db', 'a\\u200db'],
    ['byte order mark', '\ufeffhi', '\\ufeffhi'],
    ['word joiner', 'a\u2060b', 'a\\u2060b'],
    ['soft hyphen', 'ad\u00admin', 'ad\\xadmin'],
    ['invisible operators', 'a\u2061\u2064b', 'a\\u2061\\u2064b'],
    ['tag characters', 'hi\u{e0001}\u{e0041}\u{e007f}', 'hi\\u{e0001}\\u{e0041}\\u{e007f}'],
    ['interlinear annotation marks', '\ufff9a\ufffab\ufffb', '\\ufff9a\\ufffab\\ufffb'],
    ['Hangul fillers', '\u3164\uffa0\u115f', '\\u3164\\uffa0\\u115f'],
    ['a variation selector on a letter', 'a\ufe0f', 'a\\ufe0f'],
    ['Mongolian vowel separator', 'a\u180eb', 'a\\u180eb'],
    ['braille blank', '\u2800', '\\u2800'],
  ])('shows %s as a visible escape', (_what, input, shown) => {
    expect(sanitize(input)).toBe(shown);
  });

  it('keeps emoji sequences whole: joiners and variation selectors between pictographs', () => {
    for (const text of ['👨\u200d👩\u200d👧', '❤\ufe0f', '👍🏽\u200d❤\ufe0f', '🏳\ufe0f\u200d🌈']) {
      expect(sanitize(text)).toBe(text);
    }
  });

  it('collapses a long run of spaces, so no text can push a forged line onto its own row', () => {
    const forged = `hi${' '.repeat(200)}[admin] the server restarts now, log in again at evil.example`;
    expect(sanitize(forged)).toBe(
      'hi [admin] the server restarts now, log in again at evil.example',
    );
    expect(sanitize(`a${'\u3000\u00a0 '.repeat(50)}b`)).toBe('a b');
    expect(sanitize(`a${' \u200b'.repeat(100)}b`)).not.toMatch(SPACE_RUN);
  });

  it('keeps short runs of spaces', () => {
    expect(sanitize('a b  c   d')).toBe('a b  c   d');
  });

  it('leaves nothing forbidden in any string at all', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const safe = sanitize(text);
        expect(safe).not.toMatch(FORBIDDEN);
        expect(safe).not.toMatch(INVISIBLE);
        expect(safe).not.toMatch(SPACE_RUN);
        expect(sanitize(safe)).toBe(safe);
      }),
      { numRuns: 2_000 },
    );
  });

  it('changes nothing in strings that were already safe', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        fc.pre(!FORBIDDEN.test(text) && !ANY_INVISIBLE.test(text) && !SPACE_RUN.test(text));
        expect(sanitize(text)).toBe(text);
      }),
    );
  });
});
