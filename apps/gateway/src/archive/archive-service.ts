import type { Registry } from 'prom-client';
import type { StoredRange } from '../broker/bus';
import type { DmEnvelope, MessageEnvelope } from '../broker/envelope';
import type { Logger } from '../logger';
import type { Archive } from './archive';
import { ArchiveMetrics } from './archive-metrics';
import { ArchiveSweeper } from './archive-sweeper';
import { ArchiveWriter, type ArchiveWriterOptions } from './archive-writer';
import { DmSweeper, type ConversationLogs } from './dm-sweeper';
import { DM_ACTIVE_MS } from '../broker/dm-store';

export interface ArchiveServiceOptions extends ArchiveWriterOptions {
  /** Messages older than this many days are deleted; undefined keeps them. @default undefined */
  retentionDays: number | undefined;
  /** How often the writer looks for due messages. @default 100 */
  pumpMs?: number;
  /** How often the recovery sweep runs (ARCHIVE_SWEEP_MS). @default 2_000 */
  sweepMs: number;
}

export interface ArchiveServiceDeps {
  archive: Archive;
  nodeId: string;
  logger: Logger;
  registry: Registry;
  epochOf(room: string): Promise<string | undefined>;
  /** Rooms with members online, for the recovery sweep. */
  rooms(): Promise<string[]>;
  /** The room log (Bus.range), read by the recovery sweep. */
  range(room: string, after: number, limit: number): Promise<StoredRange>;
  /** The conversations' logs and their activity index (DmStore), for the DM sweep. */
  conversations?: ConversationLogs;
}

/** How often retention runs. */
const PRUNE_EVERY_MS = 3_600_000;
/** Pause between migration attempts while the database is unreachable at start. */
const MIGRATE_RETRY_MS = 2_000;

/**
 * A gateway's archive: schema migrated at start (retried in the background while PostgreSQL is
 * away, so the chat starts regardless), the writer fed by the room feeds, the recovery sweep
 * fed by the room logs (on one node at a time), retention.
 */
export class ArchiveService {
  readonly writer: ArchiveWriter;
  private readonly sweeper: ArchiveSweeper;
  private readonly metrics: ArchiveMetrics;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly deps: ArchiveServiceDeps,
    private readonly options: ArchiveServiceOptions,
  ) {
    this.metrics = new ArchiveMetrics(deps.registry, () => this.writer.backlog());
    const { archive, nodeId, logger, epochOf } = deps;
    this.writer = new ArchiveWriter(
      { archive, nodeId, logger, metrics: this.metrics, epochOf },
      options,
    );
    const swept = (count: number) => this.metrics.swept.inc(count);
    const logs = deps.conversations;
    this.sweeper = new ArchiveSweeper(
      {
        archive,
        logger,
        rooms: deps.rooms,
        range: deps.range,
        swept,
        ...(logs && {
          dms: new DmSweeper(
            { archive, logger, logs, swept },
            { batchSize: options.batchSize, horizonMs: DM_ACTIVE_MS },
          ),
        }),
      },
      { batchSize: options.batchSize },
    );
  }

  get archive(): Archive {
    return this.deps.archive;
  }

  offer(envelope: MessageEnvelope | DmEnvelope, epoch: string | undefined): void {
    this.writer.offer(envelope, epoch);
  }

  /** Starts migrating (in the background) and the timers; resolves once migrated. */
  start(): Promise<void> {
    this.migrated ??= this.migrate();
    const pump = setInterval(() => void this.writer.pump(), this.options.pumpMs ?? 100);
    pump.unref();
    this.timers.push(pump);
    if (this.options.retentionDays !== undefined) {
      const prune = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
      prune.unref();
      this.timers.push(prune);
    }
    return this.migrated;
  }

  private async migrate(): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.deps.archive.migrate();
        if (this.closed) return;
        this.metrics.up.set(1);
        this.writer.start();
        const sweep = setInterval(() => void this.sweeper.round(), this.options.sweepMs);
        sweep.unref();
        this.timers.push(sweep);
        this.deps.logger.info('archive ready');
        await this.prune();
        return;
      } catch (error) {
        this.metrics.up.set(0);
        if (attempt === 1) {
          this.deps.logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'archive unreachable at start; the chat runs, messages wait in the backlog',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, MIGRATE_RETRY_MS).unref());
      }
    }
  }

  private async prune(): Promise<void> {
    const days = this.options.retentionDays;
    if (days === undefined) return;
    try {
      const deleted = await this.deps.archive.prune(Date.now() - days * 86_400_000);
      if (deleted > 0) this.deps.logger.info({ deleted, days }, 'archive retention: pruned');
    } catch (error) {
      this.deps.logger.warn({ err: String(error) }, 'archive retention failed; next round retries');
    }
  }

  /** Writes the backlog, other nodes' messages too, until done or `deadline` (drain). */
  flush(deadline: number): Promise<void> {
    return this.writer.flush(deadline);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.deps.archive.close();
  }
}
