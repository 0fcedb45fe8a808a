/**
 * Characters that draw nothing, or draw blank space without being a space:
 *
 * - every Unicode `Default_Ignorable_Code_Point` (zero-width space and joiners, soft hyphen,
 *   word joiner, BOM, variation selectors, tag characters, the Hangul fillers U+115F, U+1160,
 *   U+3164 and U+FFA0, and the code points Unicode keeps ignorable for the future);
 * - every format character, `\p{Cf}` (bidi marks and overrides, U+FFF9-U+FFFB interlinear
 *   annotation marks, ...);
 * - U+2800 BRAILLE PATTERN BLANK.
 *
 * Names may not contain them; a text made of only these and white space is blank. The regular
 * expression property tables are the engine's (Node 20.19: Unicode 15.1 or later).
 */
const INVISIBLE_CLASS = '\\p{Default_Ignorable_Code_Point}\\p{Cf}\\u2800';

/** Matches one invisible character; non-global, so `test` keeps no state between calls. */
export const INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`, 'u');

const EVERY_INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`, 'gu');

/** A text of only white space and invisible characters. */
const BLANK = new RegExp(`^[\\s${INVISIBLE_CLASS}]*$`, 'u');

export function isBlank(text: string): boolean {
  return BLANK.test(text);
}

/** The text with every invisible character removed. */
export function withoutInvisible(text: string): string {
  return text.replace(EVERY_INVISIBLE, '');
}

/** `U+3164`: how messages name a code point. */
export function codePointLabel(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
