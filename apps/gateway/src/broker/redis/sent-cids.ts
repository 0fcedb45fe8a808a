/** At most this many records are kept (the oldest go first). @default 100_000 */
const MAX_RECORDS = 100_000;

interface SentRecord {
  key: string;
  value: string;
  /** When it expires in Redis (this node's clock). */
  expires: number;
}

/**
 * The `cid` records this node wrote (a sender's retry id and what it stored), for as long as
 * Redis keeps them, so that after Redis lost or rolled them back the node writes them again
 * (see RedisBus.restoreSends) and a retried send is still answered `duplicate`, not stored twice.
 * Bounded: records in time order, the oldest dropped past MAX_RECORDS.
 */
export class SentCids {
  private readonly records: SentRecord[] = [];
  private head = 0;
  /** The record held for each key: a key seen again (stored, then received) is kept once. */
  private readonly held = new Map<string, SentRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  add(key: string, value: string, ttlMs: number): void {
    const now = this.now();
    if ((this.held.get(key)?.expires ?? 0) > now) return;
    const record = { key, value, expires: now + ttlMs };
    this.records.push(record);
    this.held.set(key, record);
    if (this.records.length - this.head > MAX_RECORDS) this.drop();
    this.compact();
  }

  /** The value of the record held for `key`, while Redis would still keep it. */
  get(key: string): string | undefined {
    const record = this.held.get(key);
    return record !== undefined && record.expires > this.now() ? record.value : undefined;
  }

  /** The records Redis still keeps, each with the time it has left. */
  live(): { key: string; value: string; ttlMs: number }[] {
    const now = this.now();
    while (this.head < this.records.length && (this.records[this.head]?.expires ?? 0) <= now) {
      this.drop();
    }
    this.compact();
    return this.records
      .slice(this.head)
      .map(({ key, value, expires }) => ({ key, value, ttlMs: expires - now }));
  }

  /** Forgets the oldest record. */
  private drop(): void {
    const oldest = this.records[this.head++];
    if (oldest && this.held.get(oldest.key) === oldest) this.held.delete(oldest.key);
  }

  /** Drops the skipped head once it is half the array (amortised O(1) per record). */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
  }
}
