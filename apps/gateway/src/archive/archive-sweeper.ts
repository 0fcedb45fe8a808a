import type { StoredRange } from '../broker/bus';
import type { Logger } from '../logger';
import { toArchived, type Archive } from './archive';

export interface ArchiveSweeperDeps {
  archive: Archive;
  logger: Logger;
  /** Rooms with members online (ClusterState.rooms). */
  rooms(): Promise<string[]>;
  /** The room log (Bus.range): `range(room, 0, 0)` is its head. */
  range(room: string, after: number, limit: number): Promise<StoredRange>;
  /** Messages the sweep wrote that no node had (chat_archive_swept_total). */
  swept(count: number): void;
  /** The private messages' pass, run after the rooms' by the same lease holder. */
  dms?: { sweep(): Promise<void>; reset(): void };
}

export interface ArchiveSweeperOptions {
  /** Messages per log read and archive write. @default 500 */
  batchSize: number;
}

interface Mark {
  epoch: string;
  seq: number;
}

/**
 * The recovery pass that makes the archive complete whatever happened to the nodes that
 * delivered a message: one node at a time (Archive.sweepLease) compares each room log's head in
 * Redis with what the archive holds of it and writes what is missing, read from the log.
 *
 * A round only looks at a message once it has been in the log for a whole round (the head seen
 * the round before), so the live writers, not the sweep, write what they can. A room is swept
 * while it has members and afterwards until its log is archived to its head, so a room whose
 * every member was on a node that died is still covered after that node's sessions are reaped.
 * Cost per round: one head read per room; one archive count per room whose head moved (over
 * the positions added since the last round; the whole window after taking over the lease); log
 * reads only where some are missing, `batchSize` at a time.
 */
export class ArchiveSweeper {
  /** The head each room's log had at the previous round. */
  private readonly seen = new Map<string, Mark>();
  /** How far each room's log is known to be archived. */
  private readonly covered = new Map<string, Mark>();
  private busy = false;
  private failing = false;

  constructor(
    private readonly deps: ArchiveSweeperDeps,
    private readonly options: ArchiveSweeperOptions,
  ) {}

  /** One round; a failure (Redis or PostgreSQL away) ends it early, the next round resumes. */
  async round(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (!(await this.deps.archive.sweepLease())) {
        // Another node sweeps; what this node saw would be stale when it takes over.
        this.seen.clear();
        this.covered.clear();
        this.deps.dms?.reset();
        this.failing = false;
        return;
      }
      const listed = new Set(await this.deps.rooms());
      for (const room of new Set([...listed, ...this.seen.keys()])) {
        await this.sweep(room, listed.has(room));
      }
      await this.deps.dms?.sweep();
      this.failing = false;
    } catch (error) {
      // Once per outage: Redis or PostgreSQL away fails every round until it is back.
      if (!this.failing) {
        this.deps.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'archive sweep failed; the next rounds retry',
        );
      }
      this.failing = true;
    } finally {
      this.busy = false;
    }
  }

  private async sweep(room: string, listed: boolean): Promise<void> {
    const log = await this.deps.range(room, 0, 0);
    const previous = this.seen.get(room);
    if (log.epoch === undefined) {
      this.forget(room);
      return;
    }
    const { epoch } = log;
    this.seen.set(room, { epoch, seq: log.head });
    const done = this.covered.get(room);
    const from = done?.epoch === epoch ? done.seq : 0;
    // Only what was already in the log a round ago: the live writers have had their turn.
    const target = previous?.epoch === epoch ? previous.seq : 0;
    if (target > from) await this.fill(room, epoch, Math.max(from, log.first - 1), target);
    const now = this.covered.get(room);
    if (!listed && now?.epoch === epoch && now.seq >= log.head) this.forget(room);
  }

  /**
   * Writes what the archive lacks of `room`'s log in (after, target]: counted first (an index
   * range of about one round's messages), read from the log and written only when some are
   * missing (a hole below newer rows too: rows already there are skipped by the write).
   */
  private async fill(room: string, epoch: string, after: number, target: number): Promise<void> {
    const archived = await this.deps.archive.archivedCount(room, epoch, after, target);
    let next = archived >= target - after ? target : after;
    while (next < target) {
      const page = await this.deps.range(
        room,
        next,
        Math.min(this.options.batchSize, target - next),
      );
      if (page.epoch !== epoch) return;
      const messages = page.messages
        .filter((m) => m.seq <= target)
        .map((m) => toArchived(m, epoch));
      if (messages.length > 0) {
        const written = await this.deps.archive.write(messages);
        if (written > 0) {
          this.deps.swept(written);
          this.deps.logger.info(
            { room, epoch, written, upTo: messages.at(-1)?.seq },
            'archive sweep wrote messages no node had archived',
          );
        }
      }
      // A short page or holes (positions the log never held): on to the target either way.
      next = messages.at(-1)?.seq ?? target;
    }
    this.covered.set(room, { epoch, seq: target });
  }

  private forget(room: string): void {
    this.seen.delete(room);
    this.covered.delete(room);
  }
}
