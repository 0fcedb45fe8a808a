import unhomoglyph from 'unhomoglyph';
import { caseFold } from 'unicode-case-folding';
import { withoutInvisible } from './invisible';

/**
 * The key names are unique under: two names with one key are one name, wherever they are
 * claimed or looked up (a DM's `to` included). Pure: no I/O, no state.
 *
 * 1. NFKC: compatibility forms become plain ones (`ｄａｖｅ` -> `dave`, `ﬃ` -> `ffi`,
 *    `ſ` -> `s`, `µ` MICRO SIGN -> `μ` GREEK MU).
 * 2. Full Unicode case folding (CaseFolding.txt, statuses C and F; not T), then NFKC again:
 *    `Straße` and `STRASSE` -> `strasse`.
 * 3. Invisible characters (see `INVISIBLE`) removed.
 * 4. The UTS #39 confusables skeleton: NFD, each code point replaced by its prototype from
 *    Unicode's confusables.txt, NFD: `саrol` (Cyrillic а) -> `carol`, `m` -> `rn`.
 * 5. Full case folding again, then NFD: some prototypes are capitals (`0` -> `O`), and names
 *    are case-insensitive, so `b0b` must meet `bob` (via `bOb`).
 *
 * The result is for comparison only, never for display: `b0b`, `bOb` and `bob` share a key,
 * so do `alice` and `a1ice`.
 */
export function nameKey(name: string): string {
  const folded = caseFold(name.normalize('NFKC')).normalize('NFKC');
  return caseFold(skeleton(withoutInvisible(folded))).normalize('NFD');
}

/** UTS #39 section 4 `skeleton(X) = NFD(prototypes(NFD(X)))`. */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD')).normalize('NFD');
}
