import type { Bus, StoredRange } from '../broker/bus';

export interface HistoryReaderOptions {
  /** Messages in one page of history or replay. @default 100 */
  pageMessages: number;
  /** Stored bytes in one page (it ends after the message that reaches them). @default 262_144 */
  pageBytes: number;
  /** Page reads this node has waiting on the broker at once; more wait their turn. @default 2 */
  concurrency: number;
}

/**
 * Reads rooms' logs for joins and resumes, one bounded page at a time. Every page is one short
 * broker call (bounded in entries and bytes), at most `concurrency` of them are outstanding from
 * this node, and identical reads (same room, same cursor) that overlap, queued or running, are
 * served by one call: a crowd joining a room at once reads its log once, not once per member.
 * A shared page is a snapshot that may be older than the caller: its messages are immutable,
 * but its `head` may lag, so callers take their own lower bound on the head (room-sync does).
 */
export class HistoryReader {
  private readonly reads = new Map<string, Promise<StoredRange>>();
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private turns: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    readonly options: HistoryReaderOptions,
  ) {}

  /** The page of `room`'s log after seq `after`. */
  page(room: string, after: number): Promise<StoredRange> {
    const key = `${room} ${after}`;
    let read = this.reads.get(key);
    if (!read) {
      read = this.read(room, after).finally(() => this.reads.delete(key));
      this.reads.set(key, read);
    }
    return read;
  }

  /**
   * Resolves when it is the caller's turn to send a page, one caller per turn of the event
   * loop. A shared page resolves for a crowd at once; taking turns lets the I/O of everyone
   * else on this node (sends, acks) run between their pages instead of after all of them.
   */
  turn(): Promise<void> {
    const turn = this.turns.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.turns = turn;
    return turn;
  }

  private async read(room: string, after: number): Promise<StoredRange> {
    if (this.running >= this.options.concurrency) {
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    this.running++;
    try {
      const { pageMessages, pageBytes } = this.options;
      return await this.bus.range(room, after, pageMessages, pageBytes);
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}
