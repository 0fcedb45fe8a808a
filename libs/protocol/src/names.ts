import { caseFold } from 'unicode-case-folding';
import { chatError } from './errors';
import { codePointLabel, INVISIBLE } from './invisible';
import { LIMITS, NAME_PATTERN } from './limits';
import { skeleton } from './name-key';
import { fail, ok, type Result } from './result';
import { codePointLength } from './text';

/** A name ending in digits, optionally after one `_`, `-` or `.`: group 1 is what precedes. */
const NUMBERED = /^(.*?)[_.-]?\p{Nd}+$/u;
const USER_SKELETON = skeleton('user');

/**
 * `User <n>` is what unnamed users are called, so nobody may take `user<digits>` or a form of
 * it: checked on the case-folded name, with digits of any script (`user١٢٣`) and any letters
 * whose confusables skeleton is `user` (`usеr7` with a Cyrillic е).
 */
function isReserved(normalized: string): boolean {
  const match = NUMBERED.exec(caseFold(normalized).normalize('NFKC'));
  return match !== null && skeleton(match[1] ?? '') === USER_SKELETON;
}

const invalid = <T>(message: string): Result<T> => fail(chatError('INVALID_NAME', message));

/**
 * Display name: NFKC-normalised (`ｄａｖｅ` is stored as `dave`), then 1-24 letters, digits,
 * `_`, `-`, `.`; no invisible character (see `INVISIBLE`); not reserved (see `isReserved`).
 * Uniqueness is decided by `nameKey`, not here.
 */
export function validateName(name: unknown): Result<string> {
  if (typeof name !== 'string') return invalid('name must be a string');
  const normalized = name.normalize('NFKC');
  const hidden = INVISIBLE.exec(normalized);
  if (hidden !== null) {
    return invalid(`name contains an invisible character (${codePointLabel(hidden[0])})`);
  }
  const length = codePointLength(normalized, LIMITS.maxNameLength);
  if (length === 0 || length > LIMITS.maxNameLength || !NAME_PATTERN.test(normalized)) {
    return invalid(`name must be 1-${LIMITS.maxNameLength} letters, digits, '_', '-' or '.'`);
  }
  if (isReserved(normalized)) return invalid(`'${normalized}' is reserved for unnamed users`);
  return ok(normalized);
}
