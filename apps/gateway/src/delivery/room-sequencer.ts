import type { StoredRange } from '../broker/bus';
import type { MessageEnvelope } from '../broker/envelope';

export interface SequencerDeps {
  /** Stored messages with seq > after (the room's log in the bus). */
  fetch(after: number, limit: number): Promise<StoredRange>;
  /** Called once per seq, in seq order. */
  deliver(message: MessageEnvelope): void;
  /** Messages from..to (inclusive) are gone from the log and will never be delivered. */
  lost(from: number, to: number): void;
  /**
   * The room's log is behind what this node delivered (the broker lost or rolled back data):
   * raise its counter to `atLeast` so no seq this node delivered is given to another message.
   * Resolves to the head afterwards.
   */
  raise(atLeast: number): Promise<number>;
  /** A repair failed (bus down); it is retried on the next resume or out-of-order arrival. */
  failed(error: unknown): void;
  /** A repair found `count` messages that live delivery had missed. */
  repaired(count: number): void;
}

/** Messages fetched per repair round trip. @default 500 */
const REPAIR_BATCH = 500;
/** How long a join waits for live delivery before fetching from the log itself. @default 250 */
const CATCH_UP_GRACE_MS = 250;

/**
 * Turns a room's pub/sub feed into an exactly-once, in-order stream on this node. Pub/sub is
 * ordered but may lose messages (a dropped subscription); every message also sits in the room's
 * log under its seq, so a jump in seq, a resume after an outage, or a join that saw a newer head
 * makes the sequencer fetch what it missed. Duplicates (a message both fetched and received
 * live) are dropped by seq.
 *
 * Positions never go backward and no seq is delivered twice: a log whose head is below what was
 * delivered (Redis restarted empty, or from an older snapshot) has its counter raised back to it
 * rather than followed down, and a position the log does not hold below its head (trimmed, or
 * lost by the broker: a hole) is reported lost and skipped, never waited for.
 */
export class RoomSequencer {
  /** Next seq to deliver; undefined until `start`. */
  private next: number | undefined;
  private readonly held = new Map<number, MessageEnvelope>();
  private repairing: Promise<void> | undefined;
  private again = false;
  private readonly waiters = new Set<{ seq: number; resolve: () => void }>();

  constructor(private readonly deps: SequencerDeps) {}

  /** Begins delivering after `head`, the room's head read after the subscription was active. */
  start(head: number): void {
    this.next = head + 1;
    for (const seq of this.held.keys()) if (seq <= head) this.held.delete(seq);
    this.drain();
  }

  /** Highest seq delivered (or skipped as lost) so far. */
  get delivered(): number {
    return (this.next ?? 1) - 1;
  }

  offer(message: MessageEnvelope): void {
    if (this.next !== undefined && message.seq < this.next) {
      // Seq 1 again: the room's log expired (ROOM_TTL_S) or the broker lost it, and a node
      // without a floor appended. The repair sees the head below what was delivered and raises it.
      if (message.seq === 1 && this.next > 2) void this.repair();
      return;
    }
    if (message.seq === this.next && this.held.size === 0 && !this.repairing) {
      // The usual case, the next seq with nothing held: what drain does, without the map.
      this.next++;
      this.deps.deliver(message);
      this.wake();
      return;
    }
    this.held.set(message.seq, message);
    if (this.next === undefined || this.repairing) return;
    this.drain();
    if (this.held.size > 0) void this.repair();
  }

  /**
   * Resolves once every seq up to `seq` has been delivered, fetching from the log if live
   * delivery is slow; rejects after `timeoutMs` (the bus is unreachable).
   */
  async reach(seq: number, timeoutMs: number): Promise<void> {
    if (this.delivered >= seq) return;
    let waiter: { seq: number; resolve: () => void } | undefined;
    const reached = new Promise<void>((resolve) => {
      waiter = { seq, resolve };
      this.waiters.add(waiter);
    });
    const nudge = setTimeout(() => void this.repair(), CATCH_UP_GRACE_MS);
    let expire: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      expire = setTimeout(
        () => reject(new Error(`room did not catch up to seq ${seq} in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([reached, expired]);
    } finally {
      clearTimeout(nudge);
      clearTimeout(expire);
      if (waiter) this.waiters.delete(waiter);
    }
  }

  /** Fetches and delivers everything stored after what was delivered. Safe to call anytime. */
  repair(): Promise<void> {
    if (this.repairing) {
      this.again = true;
      return this.repairing;
    }
    this.repairing = this.runRepair().then((succeeded) => {
      this.repairing = undefined;
      const rerun = this.again || this.held.size > 0;
      this.again = false;
      // After a failure, wait for the next resume or arrival rather than spin against the bus.
      if (succeeded && rerun) void this.repair();
    });
    return this.repairing;
  }

  private async runRepair(): Promise<boolean> {
    if (this.next === undefined) return true;
    try {
      // Pages may be cut short by their byte bound: read on until the page that reaches the head.
      let after = this.next - 1;
      for (;;) {
        const range = await this.deps.fetch(after, REPAIR_BATCH);
        if (range.head < this.next - 1) {
          // The log is behind what was delivered (Redis lost or rolled back data): raise its
          // counter back instead of following it down, so no seq is delivered twice.
          const head = await this.deps.raise(this.next - 1);
          if (head < this.next - 1) {
            throw new Error(`room counter stayed at ${head} below ${this.next - 1}`);
          }
          continue;
        }
        const before = this.next;
        for (const message of range.messages) {
          if (message.seq > after) this.held.set(message.seq, message);
        }
        // A page ends at the head, or short of it (its count or byte bound): then read on.
        const last = range.messages.at(-1)?.seq;
        const complete = last === undefined || last >= range.head;
        // Everything up to here is settled in the log: what it does not hold never will be.
        this.skipHoles(complete ? range.head : last);
        const recovered = range.messages.filter((m) => m.seq >= before).length;
        if (recovered > 0) this.deps.repaired(recovered);
        if (complete) return true;
        after = Math.max(this.next - 1, last);
      }
    } catch (error) {
      this.deps.failed(error);
      return false;
    }
  }

  /** Delivers held messages up to `upTo`, reporting each run of positions missing as lost. */
  private skipHoles(upTo: number): void {
    this.drain();
    while (this.next !== undefined && this.next <= upTo) {
      let to = this.next;
      while (to < upTo && !this.held.has(to + 1)) to++;
      this.deps.lost(this.next, to);
      this.skipTo(to + 1);
      this.drain();
    }
  }

  private skipTo(next: number): void {
    for (const seq of this.held.keys()) if (seq < next) this.held.delete(seq);
    this.next = next;
  }

  private drain(): void {
    if (this.next === undefined) return;
    for (let message = this.held.get(this.next); message; message = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.next++;
      this.deps.deliver(message);
    }
    this.wake();
  }

  /** Resolves the waiters of `reach` whose seq was delivered. */
  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of this.waiters) {
      if (this.delivered >= waiter.seq) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
