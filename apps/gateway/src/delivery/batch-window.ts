/** Period over which a room's message rate is measured. @default 250 */
const RATE_PERIOD_MS = 250;

/**
 * When a room's next batch goes out: `'now'` (a batch of one, no added delay), at the end of this
 * event-loop turn, or after this many ms.
 */
export type FlushPlan = 'now' | 'end-of-turn' | number;

/**
 * The timing of one room's batches. A room that gets more than one message per window (on
 * average, over the last full rate period) is busy: its batch waits for the end of the window
 * after its last batch (or, if that has passed, for the end of this turn), so each socket gets
 * one frame per window instead of one per message. A quiet room's message goes out at once.
 * Times are `performance.now()` ms.
 */
export class BatchWindow {
  private lastFlush = -Infinity;
  /** Messages per ms over the last full rate period, and the count of the current one. */
  private rate = 0;
  private periodStart = 0;
  private periodCount = 0;

  /** @param windowMs 0: never busy, every batch goes out at once. @default 5 (BATCH_WINDOW_MS) */
  constructor(private readonly windowMs: number) {}

  /** Counts a message that arrived at `now` and says when the batch holding it should go. */
  arrived(now: number): FlushPlan {
    if (now - this.periodStart >= RATE_PERIOD_MS) {
      this.rate = this.periodCount / (now - this.periodStart);
      this.periodStart = now;
      this.periodCount = 0;
    }
    this.periodCount++;
    if (this.rate * this.windowMs < 1) return 'now';
    const wait = this.lastFlush + this.windowMs - now;
    return wait <= 0 ? 'end-of-turn' : wait;
  }

  /** A batch went out at `now`. */
  flushed(now: number): void {
    this.lastFlush = now;
  }
}
