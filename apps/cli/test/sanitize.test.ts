import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitize } from '../src/sanitize';

/** Code points that must never reach the terminal raw. */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- that is what is being checked for
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

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
  ])('shows %s as a visible escape', (_what, input, shown) => {
    expect(sanitize(input)).toBe(shown);
  });

  it('leaves nothing forbidden in any string at all', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const safe = sanitize(text);
        expect(safe).not.toMatch(FORBIDDEN);
        expect(safe.length).toBeGreaterThanOrEqual(text.length);
      }),
      { numRuns: 2_000 },
    );
  });

  it('changes nothing in strings that were already safe', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        fc.pre(!FORBIDDEN.test(text));
        expect(sanitize(text)).toBe(text);
      }),
    );
  });
});
