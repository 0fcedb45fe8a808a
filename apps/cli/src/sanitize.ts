/**
 * Makes text from other people safe to print on a terminal.
 *
 * Gateways deliver message text exactly as sent, control characters included (see
 * `validateText` in @chat/protocol), so everything a server relays from another user — text,
 * names, even room names — passes through here before it reaches stdout. The contract:
 *
 * - the result contains no C0 control (U+0000-U+001F), no DEL (U+007F), no C1 control
 *   (U+0080-U+009F), no bidi override or isolate (U+202A-U+202E, U+2066-U+2069), no bidi mark
 *   (U+061C, U+200E, U+200F) and no line or paragraph separator (U+2028, U+2029);
 * - each of those is shown as a visible escape instead of being dropped, so the reader can
 *   tell that something was there: `\n`, `\r`, `\t` for the usual whitespace, `\xHH` for the
 *   other code points below U+0100 and `\uHHHH` above;
 * - everything else, backslashes included, is kept as is: a literal `\x1b` typed by someone
 *   is harmless text, and escaping backslashes would garble ordinary messages.
 *
 * One event therefore always stays one line, and nobody can recolour, move the cursor, rewrite
 * earlier lines, set the window title or reorder the text of the terminal.
 */

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Matches every code point the contract above forbids. */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  const hex = code.toString(16);
  return code < 0x100 ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
}

export function sanitize(text: string): string {
  return text.replace(UNSAFE, escape);
}
