import type { DmEnvelope, MessageEnvelope } from '../broker/envelope';
import type { Logger } from '../logger';
import {
  toArchived,
  toArchivedDm,
  type Archive,
  type ArchivedDm,
  type ArchivedMessage,
} from './archive';
import type { ArchiveMetrics } from './archive-metrics';
import { Fifo } from './fifo';

export interface ArchiveWriterOptions {
  /** Messages per INSERT. @default 500 */
  batchSize: number;
  /** Messages held at most while the archive is slow or away; the oldest go first. @default 200_000 */
  backlogMax: number;
  /**
   * How long a message another node appended waits before this node writes it too (normally
   * its own node has written it by then, and writing it again costs one index probe);
   * undefined: only the appending node writes it, and the recovery sweep covers a node that
   * died before it did. @default undefined
   */
  followerDelayMs: number | undefined;
}

interface Pending {
  envelope: MessageEnvelope | DmEnvelope;
  /** A room message's log epoch (unused for DMs). */
  epoch: string | undefined;
  /** Not written before this time (ms). */
  due: number;
  /** Times its epoch could not be found yet. */
  tries: number;
}

export interface ArchiveWriterDeps {
  archive: Archive;
  nodeId: string;
  logger: Logger;
  metrics: ArchiveMetrics;
  /** The room log's epoch now, for messages delivered before this node knew it. */
  epochOf(room: string): Promise<string | undefined>;
}

/** Longest pause between retries while the archive is away. */
const MAX_BACKOFF_MS = 5_000;
/** A message whose room log's epoch stays unknown this many rounds is given up (logged). */
const MAX_EPOCH_TRIES = 20;

/**
 * Feeds the archive from what this node's room feeds deliver: every stored message of every
 * room with members here, exactly once and in seq order, whether it came live from pub/sub or
 * was recovered from the room log. Messages this node appended are written at once. Those of
 * other nodes are left to their own node, and to the recovery sweep (from the logs in Redis)
 * when that node died before writing them; with `followerDelayMs` set they are written here too
 * after that delay, at the price of a duplicate write that the archive absorbs. Nothing here is
 * on the chat's path: a slow or absent archive only grows the backlog, retried with backoff,
 * bounded by `backlogMax`.
 */
export class ArchiveWriter {
  private readonly own = new Fifo<Pending>();
  private readonly others = new Fifo<Pending>();
  private inFlight = 0;
  private busy = false;
  private retryAt = 0;
  private failures = 0;
  private ready = false;
  private down: string | undefined;
  private droppedSinceLog = 0;

  constructor(
    private readonly deps: ArchiveWriterDeps,
    private readonly options: ArchiveWriterOptions,
  ) {}

  /** Messages held (queued or being written) and the age of the oldest, for /metrics. */
  backlog(now = Date.now()): { size: number; ageSeconds: number } {
    const oldest = Math.min(
      this.own.peek()?.envelope.ts ?? Infinity,
      this.others.peek()?.envelope.ts ?? Infinity,
    );
    const size = this.own.size + this.others.size + this.inFlight;
    return { size, ageSeconds: oldest === Infinity ? 0 : Math.max(0, now - oldest) / 1000 };
  }

  /**
   * A stored message this node delivered: a room message with its log's epoch when known, or
   * a private message.
   */
  offer(envelope: MessageEnvelope | DmEnvelope, epoch: string | undefined, now = Date.now()): void {
    const mine = envelope.origin === this.deps.nodeId;
    const { followerDelayMs } = this.options;
    if (!mine && followerDelayMs === undefined) return;
    const due = mine ? now : now + (followerDelayMs ?? 0);
    (mine ? this.own : this.others).push({ envelope, epoch, due, tries: 0 });
    this.bound();
  }

  /** The schema is in place: writing may start. */
  start(): void {
    this.ready = true;
  }

  /** Writes what is due, batch after batch, until nothing is due or a write fails. */
  async pump(now = Date.now()): Promise<void> {
    if (this.busy || !this.ready || now < this.retryAt) return;
    this.busy = true;
    try {
      for (;;) {
        const batch = this.take(Date.now());
        if (batch.length === 0) return;
        if (!(await this.write(batch))) return;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Writes everything held now, followers' messages too, until done or `deadline` (ms). */
  async flush(deadline: number): Promise<void> {
    while (this.backlog().size > 0 && Date.now() < deadline && this.ready) {
      if (this.busy || Date.now() < this.retryAt) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.busy = true;
      try {
        const batch = this.take(Infinity);
        if (batch.length > 0 && !(await this.write(batch))) continue;
      } finally {
        this.busy = false;
      }
    }
  }

  private take(now: number): Pending[] {
    const batch: Pending[] = [];
    for (const queue of [this.own, this.others]) {
      for (let next = queue.peek(); next !== undefined && next.due <= now; next = queue.peek()) {
        if (batch.length >= this.options.batchSize) break;
        batch.push(next);
        queue.shift();
      }
    }
    this.inFlight = batch.length;
    return batch;
  }

  /** One batch; false when the archive failed (the batch is back in front, retried later). */
  private async write(batch: Pending[]): Promise<boolean> {
    const epochs = new Map<string, string | undefined>();
    const messages: ArchivedMessage[] = [];
    const dms: ArchivedDm[] = [];
    const later: Pending[] = [];
    for (const pending of batch) {
      const { envelope } = pending;
      if (envelope.type === 'dm') {
        dms.push(toArchivedDm(envelope));
        continue;
      }
      let epoch = pending.epoch;
      if (epoch === undefined) {
        // Redis away: the epoch stays unknown this round (the message is retried later).
        if (!epochs.has(envelope.room)) {
          epochs.set(envelope.room, await this.deps.epochOf(envelope.room).catch(() => undefined));
        }
        epoch = pending.epoch = epochs.get(envelope.room);
      }
      if (epoch === undefined) later.push(pending);
      else messages.push(toArchived(envelope, epoch));
    }
    try {
      const written =
        (await this.deps.archive.write(messages)) + (await this.deps.archive.writeDms(dms));
      this.deps.metrics.written.inc(written);
      this.wentUp();
    } catch (error) {
      this.inFlight = 0;
      this.own.unshiftAll(batch.filter((p) => p.envelope.origin === this.deps.nodeId));
      this.others.unshiftAll(batch.filter((p) => p.envelope.origin !== this.deps.nodeId));
      this.wentDown(error);
      return false;
    }
    this.inFlight = 0;
    this.retryLater(later);
    return true;
  }

  /** Messages whose epoch is not known yet go to the back, and are given up after a while. */
  private retryLater(later: Pending[]): void {
    for (const pending of later) {
      if (++pending.tries > MAX_EPOCH_TRIES) {
        this.deps.metrics.dropped.inc();
        this.deps.logger.warn(
          {
            room: 'room' in pending.envelope ? pending.envelope.room : undefined,
            seq: pending.envelope.seq,
          },
          'archive: the room log has no epoch for this message; not archived',
        );
        continue;
      }
      pending.due = Date.now() + 250;
      this.others.push(pending);
    }
  }

  private wentUp(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.deps.metrics.up.set(1);
    if (this.down === undefined) return;
    this.deps.logger.info(
      { backlog: this.backlog().size, since: this.down },
      'archive reachable again; writing the backlog',
    );
    this.down = undefined;
  }

  private wentDown(error: unknown): void {
    this.deps.metrics.failures.inc();
    this.deps.metrics.up.set(0);
    this.failures++;
    this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures);
    if (this.down !== undefined) return;
    this.down = new Date().toISOString();
    this.deps.logger.warn(
      { err: error instanceof Error ? error.message : String(error), backlog: this.backlog().size },
      'archive writes failing; keeping the backlog and retrying',
    );
  }

  /** Over backlogMax: the oldest go, other nodes' first (their own nodes hold them too). */
  private bound(): void {
    let over = this.own.size + this.others.size - this.options.backlogMax;
    if (over <= 0) return;
    while (over-- > 0) (this.others.size > 0 ? this.others : this.own).shift();
    this.deps.metrics.dropped.inc();
    if (this.droppedSinceLog++ % 10_000 === 0) {
      this.deps.logger.error(
        { backlogMax: this.options.backlogMax, dropped: this.droppedSinceLog },
        'archive backlog full: dropping the oldest messages (they stay only in the room logs)',
      );
    }
  }
}
