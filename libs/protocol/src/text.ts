import { chatError } from './errors';
import { isBlank } from './invisible';
import { LIMITS } from './limits';
import { bad, fail, ok, type Result } from './result';

/** Counts code points without allocating, so an oversized text costs no more than its length. */
export function codePointLength(text: string, stopAfter: number): number {
  let count = 0;
  for (let i = 0; i < text.length && count <= stopAfter; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/**
 * Message text: at most `LIMITS.maxTextLength` code points, not blank (blank: only white space
 * and invisible characters, see `INVISIBLE`). The text is kept exactly as sent (control and
 * invisible characters included); rendering it safely is the client's job.
 */
export function validateText(text: unknown): Result<string> {
  if (typeof text !== 'string') return bad('text must be a string');
  if (isBlank(text)) return fail(chatError('EMPTY_TEXT'));
  if (
    text.length > LIMITS.maxTextLength &&
    codePointLength(text, LIMITS.maxTextLength) > LIMITS.maxTextLength
  ) {
    return fail(
      chatError('TEXT_TOO_LONG', `message text is longer than ${LIMITS.maxTextLength} characters`),
    );
  }
  return ok(text);
}
