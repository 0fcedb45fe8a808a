/**
 * Lines the user typed that the cluster has not acknowledged yet, in the order typed. Each has
 * a `cid`, so resending it after a lost connection or a retryable refusal is stored (or
 * delivered) once. One request is in flight at a time, which keeps acks in typing order; the
 * page shows every queued line as "sending" until its ack.
 */
export interface OutgoingLine {
  cid: string;
  /** `send` to `room` (the room it was typed in), or `dm` to `to`. */
  kind: 'send' | 'dm';
  text: string;
  room?: string;
  to?: string;
  /**
   * The broker generation (`welcome.generation`) of the first attempt whose outcome is unknown;
   * each retry carries it, so that after the broker lost its records the retry is refused
   * (RECORDS_LOST) rather than stored twice (see SendRequest.generation).
   */
  firstGeneration?: string;
}

export class Outbox {
  private readonly queue: OutgoingLine[] = [];
  private inFlight: OutgoingLine | undefined;
  private counter = 0;
  /** Differs per page load, so cids stay unique per sender across reloads. */
  private readonly prefix = `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  add(line: Omit<OutgoingLine, 'cid'>): OutgoingLine {
    this.counter += 1;
    const queued = { ...line, cid: `${this.prefix}-${this.counter}` };
    this.queue.push(queued);
    return queued;
  }

  /** The next line to send, marked in flight; undefined while one is in flight or none wait. */
  take(): OutgoingLine | undefined {
    if (this.inFlight !== undefined) return undefined;
    this.inFlight = this.queue[0];
    return this.inFlight;
  }

  /** The line in flight is settled (acked, or refused for good): the next may go. */
  settle(cid: string): void {
    if (this.inFlight?.cid !== cid) return;
    this.queue.shift();
    this.inFlight = undefined;
  }

  /** The line in flight will be sent again (connection lost, or a retryable refusal). */
  release(): void {
    this.inFlight = undefined;
  }

  get size(): number {
    return this.queue.length;
  }
}
