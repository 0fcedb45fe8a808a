import type { StoredRange } from '../broker/bus';
import type { MessageEnvelope } from '../broker/envelope';

/** What every room's window on one node may hold together, so many rooms cannot grow memory. */
export class MemoryBudget {
  used = 0;

  /** @param limit bytes, e.g. 64 MiB (HISTORY_MEMORY_MB) */
  constructor(readonly limit: number) {}
}

export interface RecentWindowOptions {
  /** Messages kept at most (the room's history window). @default 1_000 */
  maxMessages: number;
  /** Bytes kept at most for this room (HISTORY_MEMORY_KB). @default 262_144 */
  maxBytes: number;
  budget: MemoryBudget;
}

/** Approximate memory of one message: its text (UTF-16) plus the envelope around it. */
const size = (message: MessageEnvelope): number => 2 * message.text.length + 256;

/**
 * The newest messages a subscribed room delivered on this node, contiguous by seq, so joins
 * and resumes that only need recent history are served without asking Redis. Anything it cannot
 * serve whole (older than its oldest message) is read from the log instead. Contiguity is the
 * contract: a seq that does not follow the newest (a loss, a log that restarted) empties it, and
 * so does a message of another epoch: what it holds are positions of one epoch, {@link epoch}.
 */
export class RecentWindow {
  /**
   * The messages held are `messages[head..]`: evicting empties a slot and moves `head` (the
   * message is garbage at once, as HISTORY_MEMORY_MB counts it), compacted now and then.
   */
  private messages: (MessageEnvelope | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private heldEpoch: string | undefined;

  constructor(private readonly options: RecentWindowOptions) {}

  /** The newest seq held, if any. */
  get newest(): number | undefined {
    return this.head < this.messages.length ? this.messages.at(-1)?.seq : undefined;
  }

  /**
   * The log epoch of the messages held: a join may be served from here only in this epoch (a
   * node can hold a newer epoch's messages than the log it reads after Redis came back older, and
   * those positions were given in the old epoch to other messages).
   */
  get epoch(): string | undefined {
    return this.heldEpoch;
  }

  /** True when every message from seq `from` up to the newest is held. */
  holds(from: number): boolean {
    const oldest = this.messages[this.head];
    return oldest !== undefined && oldest.seq <= from;
  }

  add(message: MessageEnvelope): void {
    const newest = this.newest;
    if (newest !== undefined && (message.seq !== newest + 1 || message.epoch !== this.heldEpoch)) {
      this.clear();
    }
    this.heldEpoch = message.epoch;
    this.messages.push(message);
    const bytes = size(message);
    this.bytes += bytes;
    this.options.budget.used += bytes;
    const { maxMessages, maxBytes, budget } = this.options;
    let freed = 0;
    while (
      this.head < this.messages.length &&
      (this.messages.length - this.head > maxMessages ||
        this.bytes - freed > maxBytes ||
        budget.used - freed > budget.limit)
    ) {
      freed += size(this.messages[this.head] as MessageEnvelope);
      this.messages[this.head++] = undefined;
    }
    this.bytes -= freed;
    budget.used -= freed;
    // A full window evicts one message per add: copy what is held once it is half the array,
    // not on every add (amortised O(1) instead of O(maxMessages) per message).
    if (this.head > 0 && this.head * 2 >= this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }

  /** As Bus.range, from memory; undefined unless every message after `after` is held. */
  page(after: number, limit: number, maxBytes: number): StoredRange | undefined {
    const oldest = this.messages[this.head];
    const newest = this.newest;
    if (oldest === undefined || newest === undefined || oldest.seq > after + 1) return undefined;
    const messages: MessageEnvelope[] = [];
    let bytes = 0;
    for (let i = this.head + Math.max(0, after + 1 - oldest.seq); i < this.messages.length; i++) {
      if (messages.length >= limit || bytes >= maxBytes) break;
      const message = this.messages[i] as MessageEnvelope;
      messages.push(message);
      bytes += size(message);
    }
    const epoch = this.heldEpoch;
    return epoch === undefined
      ? { messages, first: oldest.seq, head: newest }
      : { messages, first: oldest.seq, head: newest, epoch };
  }

  clear(): void {
    this.heldEpoch = undefined;
    this.options.budget.used -= this.bytes;
    this.bytes = 0;
    this.messages = [];
    this.head = 0;
  }
}
