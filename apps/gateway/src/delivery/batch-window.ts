import type { LoadSignal } from './node-load';

/**
 * When a room's next batch goes out: `'now'` (a batch of one, no added delay), at the end of this
 * event-loop turn, or after this many ms.
 */
export type FlushPlan = 'now' | 'end-of-turn' | number;

/**
 * The timing of one room's batches, by the load of the node rather than the rate of the room.
 * While the node is busy (see {@link NodeLoad}) a batch waits for the end of the window after the
 * room's last batch (or, if that has passed, for the end of this turn), so each socket gets one
 * frame per window instead of one per message, which is what frees the node. While it is idle a
 * message goes out at once, unless another was delivered earlier in the same turn (then the
 * batch goes at the end of the turn, one frame for all of them). Times are `performance.now()` ms.
 */
export class BatchWindow {
  private lastFlush = -Infinity;

  /**
   * @param windowMs 0: never wait, every batch goes out at once or at the end of its turn.
   *   @default 5 (BATCH_WINDOW_MS)
   */
  constructor(
    private readonly windowMs: number,
    private readonly load: LoadSignal,
  ) {}

  /** Says when the batch holding a message that arrived at `now` should go. */
  arrived(now: number): FlushPlan {
    const crowded = this.load.inTurn();
    if (this.windowMs > 0 && this.load.busy()) {
      const wait = this.lastFlush + this.windowMs - now;
      return wait <= 0 ? 'end-of-turn' : wait;
    }
    return crowded ? 'end-of-turn' : 'now';
  }

  /** A batch went out at `now`. */
  flushed(now: number): void {
    this.lastFlush = now;
  }
}
