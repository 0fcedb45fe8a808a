import { nameKey } from '@chat/protocol';

/** Comparison keys a {@link NameKeys} remembers before it forgets them all. @default 65536 */
const REMEMBERED = 65_536;

/**
 * Names' comparison keys (see nameKey: NFKC, case folding, the confusables skeleton), remembered
 * by name: a node renews every local user's name lease each `NAME_TTL_MS` / 3, and at 10,000
 * users the keys alone took ~30 ms of one turn. Bounded: forgotten whole once full (a flood of
 * names costs their computation again, never memory).
 */
export class NameKeys {
  private readonly keys = new Map<string, string>();

  of(name: string): string {
    let key = this.keys.get(name);
    if (key === undefined) {
      if (this.keys.size >= REMEMBERED) this.keys.clear();
      key = nameKey(name);
      this.keys.set(name, key);
    }
    return key;
  }
}
