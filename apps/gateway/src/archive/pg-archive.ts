import pg from 'pg';
import type { Logger } from '../logger';
import {
  ArchiveUnavailableError,
  type Archive,
  type ArchivedDm,
  type ArchivedMessage,
  type DmCursor,
} from './archive';
import { migrate } from './migrations';

export interface PgArchiveOptions {
  /** postgres://user:password@host:port/db (DATABASE_URL). */
  url: string;
  /** Connections in the pool. @default 4 */
  poolSize?: number;
  /** Waiting for a connection or a query longer than this fails it. @default 5_000 */
  timeoutMs?: number;
  logger: Logger;
}

interface Row {
  room: string;
  epoch: string;
  seq: string;
  id: string;
  from_id: string;
  from_name: string;
  text: string;
  ts: string;
}

const COLUMNS = 'room, epoch, seq, id, from_id, from_name, text, ts';
const DM_COLUMNS = 'conversation, seq, id, from_id, from_name, to_id, to_name, text, ts';

interface DmRow {
  conversation: string;
  seq: string;
  id: string;
  from_id: string;
  from_name: string;
  to_id: string;
  to_name: string;
  text: string;
  ts: string;
}

function toDm(row: DmRow): ArchivedDm {
  return {
    conversation: row.conversation,
    seq: Number(row.seq),
    id: row.id,
    from: { id: Number(row.from_id), name: row.from_name },
    to: { id: Number(row.to_id), name: row.to_name },
    text: row.text,
    ts: Number(row.ts),
  };
}

function toMessage(row: Row): ArchivedMessage {
  return {
    room: row.room,
    epoch: row.epoch,
    seq: Number(row.seq),
    id: row.id,
    from: { id: Number(row.from_id), name: row.from_name },
    text: row.text,
    ts: Number(row.ts),
  };
}

/** Any fixed number: the advisory lock that keeps two nodes from pruning at once. */
const PRUNE_LOCK = 7_316_002;
/** Any fixed number: the advisory lock held by the one node running the recovery sweep. */
const SWEEP_LOCK = 7_316_003;
/** Rows one retention delete removes; small batches keep locks and WAL bursts short. */
const PRUNE_BATCH = 10_000;

/** The archive on PostgreSQL through node-postgres' pool (see Archive). */
export class PgArchive implements Archive {
  private readonly pool: pg.Pool;
  /** (room, epoch) pairs this node has recorded in archive_epochs. */
  private readonly knownEpochs = new Set<string>();
  /** The session holding SWEEP_LOCK while this node is the sweeper. */
  private sweeper: pg.PoolClient | undefined;
  /** Pool clients that have our error listener (clients are reused; one listener each). */
  private readonly watched = new WeakSet<pg.PoolClient>();

  constructor(private readonly options: PgArchiveOptions) {
    const timeoutMs = options.timeoutMs ?? 5_000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'chat-gateway',
    });
    // An idle connection that breaks (the server restarted) is dropped by the pool; without a
    // listener its error would crash the process.
    this.pool.on('error', (error) =>
      options.logger.warn({ err: error.message }, 'archive connection lost'),
    );
  }

  private async run<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query<T>(text, values)).rows;
    } catch (error) {
      throw new ArchiveUnavailableError(error);
    }
  }

  /** A connection of the pool for several statements (release it). */
  private async connect(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      if (!this.watched.has(client)) {
        // A checked-out connection that breaks between two statements (the server stopping in
        // the middle of a transaction) emits 'error' on the client, not on the pool: unhandled,
        // it would crash the process. The statement that follows fails by itself.
        this.watched.add(client);
        client.on('error', (error) =>
          this.options.logger.warn({ err: error.message }, 'archive connection lost'),
        );
      }
      return client;
    } catch (error) {
      throw new ArchiveUnavailableError(error);
    }
  }

  async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      const applied = await migrate(client);
      if (applied.length > 0) this.options.logger.info({ applied }, 'archive schema migrated');
    } catch (error) {
      throw new ArchiveUnavailableError(error);
    } finally {
      client.release();
    }
  }

  async write(messages: readonly ArchivedMessage[]): Promise<number> {
    if (messages.length === 0) return 0;
    // One order for every writer, so concurrent batches of the same rows never deadlock.
    const sorted = [...messages].sort(
      (a, b) => a.room.localeCompare(b.room) || a.epoch.localeCompare(b.epoch) || a.seq - b.seq,
    );
    const column = <T>(pick: (m: ArchivedMessage) => T) => sorted.map(pick);
    const inserted = await this.run<{ n: string }>(
      `WITH rows AS (
         INSERT INTO archive_messages (${COLUMNS})
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[],
                              $6::text[], $7::text[], $8::bigint[]) AS m (${COLUMNS})
         -- Rows already there (another node wrote them) are skipped before their words are
         -- computed; ON CONFLICT still settles a race between two writers.
         WHERE NOT EXISTS (SELECT 1 FROM archive_messages a
                           WHERE a.room = m.room AND a.epoch = m.epoch AND a.seq = m.seq)
         ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*) AS n FROM rows`,
      [
        column((m) => m.room),
        column((m) => m.epoch),
        column((m) => m.seq),
        column((m) => m.id),
        column((m) => m.from.id),
        column((m) => m.from.name),
        column((m) => m.text),
        column((m) => m.ts),
      ],
    );
    await this.recordEpochs(sorted);
    return Number(inserted[0]?.n ?? 0);
  }

  async writeDms(messages: readonly ArchivedDm[]): Promise<number> {
    if (messages.length === 0) return 0;
    const sorted = [...messages].sort(
      (a, b) =>
        a.conversation.localeCompare(b.conversation) || a.seq - b.seq || a.id.localeCompare(b.id),
    );
    const column = <T>(pick: (m: ArchivedDm) => T) => sorted.map(pick);
    const inserted = await this.run<{ n: string }>(
      `WITH rows AS (
         INSERT INTO archive_dms (${DM_COLUMNS})
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[],
                              $6::bigint[], $7::text[], $8::text[], $9::bigint[]) AS m (${DM_COLUMNS})
         -- The sweep offers rows mostly there already: an index probe each, no insert.
         WHERE NOT EXISTS (SELECT 1 FROM archive_dms a
                           WHERE a.conversation = m.conversation AND a.seq = m.seq AND a.id = m.id)
         ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*) AS n FROM rows`,
      [
        column((m) => m.conversation),
        column((m) => m.seq),
        column((m) => m.id),
        column((m) => m.from.id),
        column((m) => m.from.name),
        column((m) => m.to.id),
        column((m) => m.to.name),
        column((m) => m.text),
        column((m) => m.ts),
      ],
    );
    return Number(inserted[0]?.n ?? 0);
  }

  async dmPage(conversation: string, cursor: DmCursor, limit: number): Promise<ArchivedDm[]> {
    const rows = await this.run<DmRow>(
      `SELECT ${DM_COLUMNS} FROM archive_dms
       WHERE conversation = $1 AND (ts, seq) < ($2, $3) ORDER BY ts DESC, seq DESC LIMIT $4`,
      [conversation, cursor.ts, cursor.seq, limit],
    );
    return rows.map(toDm).reverse();
  }

  async dmTs(conversation: string, seq: number): Promise<number | undefined> {
    const rows = await this.run<{ ts: string }>(
      `SELECT ts FROM archive_dms WHERE conversation = $1 AND seq = $2 ORDER BY ts DESC LIMIT 1`,
      [conversation, seq],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].ts);
  }

  /** Records when each (room, epoch) started, once per node: the earliest message seen wins. */
  private async recordEpochs(messages: readonly ArchivedMessage[]): Promise<void> {
    const first = new Map<string, ArchivedMessage>();
    for (const m of messages) {
      const key = `${m.room} ${m.epoch}`;
      if (this.knownEpochs.has(key)) continue;
      const seen = first.get(key);
      if (!seen || m.ts < seen.ts) first.set(key, m);
    }
    if (first.size === 0) return;
    const rows = [...first.values()];
    await this.run(
      `INSERT INTO archive_epochs (room, epoch, first_ts)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (room, epoch) DO UPDATE SET first_ts = excluded.first_ts
       WHERE excluded.first_ts < archive_epochs.first_ts`,
      [rows.map((m) => m.room), rows.map((m) => m.epoch), rows.map((m) => m.ts)],
    );
    for (const key of first.keys()) this.knownEpochs.add(key);
  }

  async page(
    room: string,
    epoch: string,
    before: number,
    limit: number,
  ): Promise<ArchivedMessage[]> {
    const rows = await this.run<Row>(
      `SELECT ${COLUMNS} FROM archive_messages
       WHERE room = $1 AND epoch = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4`,
      [room, epoch, before, limit],
    );
    return rows.map(toMessage).reverse();
  }

  async previousEpoch(room: string, epoch?: string): Promise<string | undefined> {
    const rows = await this.run<{ epoch: string }>(
      `SELECT epoch FROM archive_epochs
       WHERE room = $1 AND epoch IS DISTINCT FROM $2
         AND first_ts < coalesce(
           (SELECT first_ts FROM archive_epochs WHERE room = $1 AND epoch = $2),
           9223372036854775807)
       ORDER BY first_ts DESC LIMIT 1`,
      [room, epoch ?? null],
    );
    return rows[0]?.epoch;
  }

  async archivedCount(room: string, epoch: string, after: number, upTo: number): Promise<number> {
    const rows = await this.run<{ n: string }>(
      `SELECT count(*) AS n FROM archive_messages
       WHERE room = $1 AND epoch = $2 AND seq > $3 AND seq <= $4`,
      [room, epoch, after, upTo],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async sweepLease(): Promise<boolean> {
    const held = this.sweeper;
    if (held) {
      try {
        // The lock lives as long as this session: a session that still answers still holds it.
        await held.query('SELECT 1');
        if (this.sweeper === held) return true;
      } catch (error) {
        this.lostSweeper(held, error instanceof Error ? error : new Error(String(error)));
      }
    }
    const client = await this.connect();
    try {
      const rows = await client.query<{ held: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS held',
        [SWEEP_LOCK],
      );
      if (rows.rows[0]?.held === true) {
        // A held connection's errors (the server restarting) are not the pool's to catch:
        // unhandled, they would crash the process. The lease is lost with it; another round
        // (here or on another node) takes it again.
        client.on('error', (error) => this.lostSweeper(client, error));
        this.sweeper = client;
        return true;
      }
      client.release();
      return false;
    } catch (error) {
      client.release(true);
      throw new ArchiveUnavailableError(error);
    }
  }

  private lostSweeper(client: pg.PoolClient, error: Error): void {
    if (this.sweeper !== client) return;
    this.options.logger.warn(
      { err: error.message },
      'archive sweep lease lost with its connection',
    );
    this.sweeper = undefined;
    client.release(true);
  }

  async search(room: string, query: string, limit: number): Promise<ArchivedMessage[]> {
    const rows = await this.run<Row>(
      `SELECT ${COLUMNS} FROM archive_messages
       WHERE room = $1 AND tsv @@ websearch_to_tsquery('simple', $2)
       ORDER BY ts DESC, seq DESC LIMIT $3`,
      [room, query, limit],
    );
    return rows.map(toMessage);
  }

  async prune(cutoffMs: number): Promise<number> {
    return (
      (await this.pruneTable('archive_messages', cutoffMs)) +
      (await this.pruneTable('archive_dms', cutoffMs))
    );
  }

  private async pruneTable(table: string, cutoffMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.run<{ n: string; locked: boolean }>(
        `WITH lock AS (SELECT pg_try_advisory_xact_lock($3) AS locked),
         gone AS (
           DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table}, lock WHERE lock.locked AND ts < $1 LIMIT $2)
           RETURNING 1)
         SELECT (SELECT count(*) FROM gone) AS n, (SELECT locked FROM lock) AS locked`,
        [cutoffMs, PRUNE_BATCH, PRUNE_LOCK],
      );
      const n = Number(rows[0]?.n ?? 0);
      total += n;
      if (n < PRUNE_BATCH) return total;
    }
  }

  async close(): Promise<void> {
    this.sweeper?.release(true);
    this.sweeper = undefined;
    await this.pool.end().catch(() => undefined);
  }
}
