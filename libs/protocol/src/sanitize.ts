/**
 * Makes text from other people safe to show, on a terminal or a web page.
 *
 * Gateways deliver message text exactly as sent, control characters included (see
 * `validateText` in @chat/protocol), so everything a server relays from another user — text,
 * names, even room names — passes through here before it reaches stdout. The contract:
 *
 * - the result contains no control character (C0, DEL, C1), no format character (`\p{Cf}`:
 *   bidi marks, overrides and isolates, zero-width space, BOM, word joiner, soft hyphen, tag
 *   characters, U+FFF9-U+FFFB, ...), no default-ignorable code point (Hangul fillers,
 *   variation selectors, ...), no U+2800 BRAILLE PATTERN BLANK and no line or paragraph
 *   separator (U+2028, U+2029);
 * - the one exception: a zero-width joiner between two pictographs and a variation selector
 *   after an emoji are kept, since there they draw the emoji (`👨‍👩‍👧`, `❤️`) instead of hiding
 *   anything;
 * - each forbidden code point is shown as a visible escape instead of being dropped, so the
 *   reader can tell that something was there: `\n`, `\r`, `\t` for the usual whitespace,
 *   `\xHH` below U+0100, `\uHHHH` up to U+FFFF and `\u{HHHHH}` above;
 * - a run of four or more spaces (any `\p{Zs}`) becomes one space, so no text can push a
 *   forged `[admin] ...` onto a terminal row of its own;
 * - everything else, backslashes included, is kept as is: a literal `\x1b` typed by someone
 *   is harmless text, and escaping backslashes would garble ordinary messages.
 *
 * One event therefore always stays one line, and nobody can recolour, move the cursor, rewrite
 * earlier lines, set the window title, reorder the text or hide characters from the reader.
 */

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Matches every code point the contract above forbids, minus the emoji exception. */
const UNSAFE = new RegExp(
  [
    // a joiner is part of an emoji sequence only between pictographs
    '(?<![\\p{Extended_Pictographic}\\p{Emoji_Modifier}\\ufe0f])\\u200d',
    '\\u200d(?!\\p{Extended_Pictographic})',
    // a variation selector is part of an emoji only right after one
    '(?<!\\p{Emoji})(?:\\ufe0e|\\ufe0f)',
    '(?!\\u200d|\\ufe0e|\\ufe0f)[\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}\\p{Zl}\\p{Zp}\\u2800]',
  ].join('|'),
  'gu',
);

const SPACE_RUN = /\p{Zs}{4,}/gu;

function escape(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const hex = (char.codePointAt(0) ?? 0).toString(16);
  if (hex.length <= 2) return `\\x${hex.padStart(2, '0')}`;
  return hex.length <= 4 ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`;
}

export function sanitize(text: string): string {
  return text.replace(UNSAFE, escape).replace(SPACE_RUN, ' ');
}
