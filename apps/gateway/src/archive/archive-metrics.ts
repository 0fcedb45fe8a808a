import { Counter, Gauge, type Registry } from 'prom-client';

/** The archive writer's Prometheus metrics, on the gateway's registry. */
export class ArchiveMetrics {
  readonly backlog: Gauge;
  readonly backlogAge: Gauge;
  readonly written: Counter;
  readonly dropped: Counter;
  readonly swept: Counter;
  readonly failures: Counter;
  readonly up: Gauge;

  constructor(
    registry: Registry,
    /** Read at scrape time: messages waiting, and the age in seconds of the oldest. */
    state: () => { size: number; ageSeconds: number },
  ) {
    const registers = [registry];
    this.backlog = new Gauge({
      name: 'chat_archive_backlog_messages',
      help: 'Room and private messages delivered on this node and not yet confirmed in the archive',
      registers,
      collect() {
        this.set(state().size);
      },
    });
    this.backlogAge = new Gauge({
      name: 'chat_archive_backlog_age_seconds',
      help: 'Age of the oldest message in the archive backlog (0 when empty)',
      registers,
      collect() {
        this.set(state().ageSeconds);
      },
    });
    this.written = new Counter({
      name: 'chat_archive_written_total',
      help: 'Room and private messages this node stored in the archive (not counting ones already there)',
      registers,
    });
    this.dropped = new Counter({
      name: 'chat_archive_dropped_total',
      help: 'Messages dropped from the backlog because it passed ARCHIVE_BACKLOG_MAX',
      registers,
    });
    this.swept = new Counter({
      name: 'chat_archive_swept_total',
      help: 'Room and private messages the recovery sweep found missing from the archive and wrote',
      registers,
    });
    this.failures = new Counter({
      name: 'chat_archive_write_failures_total',
      help: 'Archive writes that failed (the batch stays in the backlog and is retried)',
      registers,
    });
    this.up = new Gauge({
      name: 'chat_archive_up',
      help: '1 while the last archive write or migration succeeded',
      registers,
    });
  }
}
