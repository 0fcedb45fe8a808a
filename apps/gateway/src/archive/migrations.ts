import type { PoolClient } from 'pg';

/**
 * The archive's schema, in order. A migration is applied once, in one transaction, and
 * recorded in `archive_migrations`; never edit one that was released, add the next.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'room messages, epochs, paging and search indexes',
    sql: `
      CREATE EXTENSION IF NOT EXISTS btree_gin;
      CREATE TABLE archive_messages (
        room      text   NOT NULL,
        epoch     text   NOT NULL,
        seq       bigint NOT NULL,
        id        text   NOT NULL,
        from_id   bigint NOT NULL,
        from_name text   NOT NULL,
        text      text   NOT NULL,
        ts        bigint NOT NULL,
        tsv       tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
        -- Idempotent writes, and paging back in one room's epoch (an index range scan).
        PRIMARY KEY (room, epoch, seq)
      );
      -- Search: one room's messages containing the words, without touching other rooms'.
      CREATE INDEX archive_messages_search ON archive_messages USING gin (room, tsv);
      -- Retention deletes by age; rows arrive roughly in ts order, so a BRIN index is tiny.
      CREATE INDEX archive_messages_ts ON archive_messages USING brin (ts);
      -- A room's epochs in the order they started: paging moves from one to the one before.
      CREATE TABLE archive_epochs (
        room     text   NOT NULL,
        epoch    text   NOT NULL,
        first_ts bigint NOT NULL,
        PRIMARY KEY (room, epoch)
      );
      CREATE INDEX archive_epochs_order ON archive_epochs (room, first_ts);
    `,
  },
  {
    version: 2,
    name: 'newest-first index for searches of common words',
    // A word in most of a room's messages matches thousands of rows that the GIN index returns
    // unordered, to be sorted for the newest 20 (137 ms at 10M rows in the bench); walking the
    // room's messages newest first and stopping at 20 matches is cheap exactly then. The
    // planner picks between the two from the word's frequency (PostgreSQL keeps tsvector
    // statistics).
    sql: `CREATE INDEX archive_messages_newest ON archive_messages (room, ts DESC, seq DESC);`,
  },
  {
    version: 3,
    name: 'private messages',
    // A conversation's seq starts over when Redis forgot it (expired after its TTL, or lost);
    // the message id (unique per message, the same in every copy) tells the lives apart, so a
    // second write of a message is a no-op and an earlier life's seq 5 is kept beside a later
    // life's. Lives follow each other in time: pages go back by (ts, seq).
    sql: `
      CREATE TABLE archive_dms (
        conversation text   NOT NULL,
        seq          bigint NOT NULL,
        id           text   NOT NULL,
        from_id      bigint NOT NULL,
        from_name    text   NOT NULL,
        to_id        bigint NOT NULL,
        to_name      text   NOT NULL,
        text         text   NOT NULL,
        ts           bigint NOT NULL,
        PRIMARY KEY (conversation, seq, id)
      );
      CREATE INDEX archive_dms_newest ON archive_dms (conversation, ts DESC, seq DESC);
      CREATE INDEX archive_dms_ts ON archive_dms USING brin (ts);
    `,
  },
];

/** Any fixed number: the advisory lock that makes concurrently starting gateways migrate once. */
const MIGRATION_LOCK = 7_316_001;

/** Applies the migrations `client`'s database lacks; returns the versions applied. */
export async function migrate(client: PoolClient): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS archive_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await client.query<{ version: number }>('SELECT version FROM archive_migrations');
    const have = new Set(done.rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (have.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO archive_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
