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
 *    Unicode's confusables.txt, NFD: `саrol` (Cyrillic а) -> `carol`, `rn` -> `rn`, `m` -> `rn`.
 *
 * The result is for comparison only, never for display: `0` and `O` share a key, so do `l`,
 * `1` and `I` once folded.
 */
export function nameKey(name: string): string {
  const folded = caseFold(name.normalize('NFKC')).normalize('NFKC');
  return skeleton(withoutInvisible(folded));
}

/** UTS #39 section 4 `skeleton(X) = NFD(prototypes(NFD(X)))`. */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD')).normalize('NFD');
}
