/**
 * Resume bookkeeping: for each room, the highest sequence number up to which the client has
 * seen (or knowingly lost) everything. That watermark is what a reconnect sends as `since`, so
 * it must never run ahead of a message we have not had: the gateway would then never replay it.
 *
 * Seqs can arrive out of order — the ack for our own message N may come before someone else's
 * N-1 is delivered — so seqs above the watermark are remembered as disjoint ranges, and the
 * watermark only advances through a contiguous run. Seeing a seq twice changes nothing.
 */
class RoomWatermark {
  /** Undefined until the room's first `synced`: before that we do not know where we started. */
  value: number | undefined;
  /** Seen ranges above `value` (or above nothing yet), sorted, disjoint, non-adjacent. */
  private ranges: [number, number][] = [];

  /** Everything up to `seq` is accounted for (a `synced`). Never moves the watermark back. */
  start(seq: number): void {
    this.value = Math.max(this.value ?? seq, seq);
    this.absorb();
  }

  /** Seqs `from..to` (inclusive) are seen or knowingly lost. */
  mark(from: number, to: number): void {
    if (to < from || (this.value !== undefined && to <= this.value)) return;
    const merged: [number, number][] = [];
    let lo = from;
    let hi = to;
    for (const [a, b] of this.ranges) {
      if (b + 1 < lo || a > hi + 1) merged.push([a, b]);
      else {
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    merged.push([lo, hi]);
    merged.sort((x, y) => x[0] - y[0]);
    this.ranges = merged;
    this.absorb();
  }

  /** Moves the watermark through ranges that now touch it, and drops ranges below it. */
  private absorb(): void {
    if (this.value === undefined) return;
    while (this.ranges.length > 0) {
      const [a, b] = this.ranges[0] ?? [0, 0];
      if (a > this.value + 1) break;
      this.value = Math.max(this.value, b);
      this.ranges.shift();
    }
  }

  /** Seen seqs still waiting above the watermark (for tests and debugging). */
  pending(): readonly (readonly [number, number])[] {
    return this.ranges;
  }
}

/** Acked seqs kept per room while their epoch's `synced` has not come (see SeqTracker.ahead). */
const MAX_AHEAD = 1_000;

export class SeqTracker {
  private readonly rooms = new Map<string, RoomWatermark>();
  /** Each room log's epoch as last told (`synced`, a send's ack): seqs count within it. */
  private readonly epochs = new Map<string, string>();
  /**
   * Seqs of our own acked sends in a newer epoch than the room's `synced` told us: the ack of
   * the first message of a renewed log can come before the `synced` that announces the renewal
   * (their paths differ). They count once that `synced` comes; counted at once they would be
   * wiped by it, and the watermark would stall below them for good.
   */
  private readonly ahead = new Map<string, { epoch: string; seqs: number[] }>();

  private room(room: string): RoomWatermark {
    let watermark = this.rooms.get(room);
    if (watermark === undefined) {
      watermark = new RoomWatermark();
      this.rooms.set(room, watermark);
    }
    return watermark;
  }

  /**
   * A `synced`: the gateway has given us everything in `room` up to `seq` (of `epoch`, when
   * given). `restarted`, or another epoch than we knew: the room's seqs are not the ones we
   * counted, so the old watermark means nothing any more.
   */
  synced(room: string, seq: number, restarted = false, epoch?: string): void {
    const known = this.epochs.get(room);
    if (restarted || (epoch !== undefined && known !== undefined && epoch !== known)) {
      this.rooms.delete(room);
    }
    // No epoch: the log has none now (empty, or lost whole); its next one is new to everybody.
    if (epoch === undefined) this.epochs.delete(room);
    else this.epochs.set(room, epoch);
    const watermark = this.room(room);
    watermark.start(seq);
    const ahead = this.ahead.get(room);
    if (ahead !== undefined && ahead.epoch === this.epochs.get(room)) {
      for (const s of ahead.seqs) watermark.mark(s, s);
      this.ahead.delete(room);
    }
  }

  /** A delivered message, or the ack of our own send (which names the log's epoch). */
  seen(room: string, seq: number, epoch?: string): void {
    const known = this.epochs.get(room);
    if (epoch !== undefined && known !== undefined && epoch !== known) {
      const ahead = this.ahead.get(room);
      if (ahead?.epoch !== epoch) this.ahead.set(room, { epoch, seqs: [seq] });
      else if (ahead.seqs.length < MAX_AHEAD) ahead.seqs.push(seq);
      return;
    }
    if (epoch !== undefined && known === undefined) this.epochs.set(room, epoch);
    this.room(room).mark(seq, seq);
  }

  /** The epoch our watermark of `room` counts in (sent with `since`); undefined if never told. */
  epoch(room: string): string | undefined {
    return this.epochs.get(room);
  }

  /** A `gap`: `from..to` are lost for good; waiting for them would stall the watermark. */
  lost(room: string, from: number, to: number): void {
    this.room(room).mark(from, to);
  }

  /** What to send as `since` when (re)joining `room`; undefined if we never synced there. */
  since(room: string): number | undefined {
    return this.rooms.get(room)?.value;
  }

  /** Whether `seq` of `room` was already seen (or knowingly lost): a second copy shows nothing. */
  has(room: string, seq: number): boolean {
    const watermark = this.rooms.get(room);
    if (watermark === undefined) return false;
    if (watermark.value !== undefined && seq <= watermark.value) return true;
    return watermark.pending().some(([from, to]) => seq >= from && seq <= to);
  }

  /** Ranges seen above the watermark of `room`, in order. */
  pending(room: string): readonly (readonly [number, number])[] {
    return this.rooms.get(room)?.pending() ?? [];
  }
}
