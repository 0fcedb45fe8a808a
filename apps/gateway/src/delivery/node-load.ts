import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Share of the event loop's time spent working above which the node is busy. @default 0.5 */
export const BUSY_UTILIZATION = 0.5;
/** The utilization is measured over at least this long. @default 100 */
const SAMPLE_MS = 100;

/** What a room's batch window asks of the node it runs on (see {@link BatchWindow}). */
export interface LoadSignal {
  /** The node spent more than its threshold of the last sample period working. */
  busy(): boolean;
  /** Counts a delivered message; true when another one was delivered earlier in this turn. */
  inTurn(): boolean;
}

/**
 * How busy this node is, for the batch windows of all its rooms: the event loop's utilization
 * (the share of wall time it was not waiting for I/O, which also rises when the process waits
 * for a core it shares) over the last sample period, and how many messages this turn of the
 * loop has delivered (a read from the broker holding several messages is one turn). Sampled
 * on demand: no timer.
 */
export class NodeLoad implements LoadSignal {
  private sample: EventLoopUtilization = performance.eventLoopUtilization();
  private sampledAt = performance.now();
  private isBusy = false;
  private turn = 0;
  private readonly endTurn = () => (this.turn = 0);

  /** @param threshold utilization above which the node is busy, 0..1 */
  constructor(private readonly threshold = BUSY_UTILIZATION) {}

  busy(): boolean {
    const now = performance.now();
    if (now - this.sampledAt >= SAMPLE_MS) {
      const next = performance.eventLoopUtilization();
      this.isBusy =
        performance.eventLoopUtilization(next, this.sample).utilization > this.threshold;
      this.sample = next;
      this.sampledAt = now;
    }
    return this.isBusy;
  }

  inTurn(): boolean {
    if (this.turn++ === 0) setImmediate(this.endTurn);
    return this.turn > 1;
  }
}
