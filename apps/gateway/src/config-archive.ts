import { ConfigError, integer, optionalInteger, type Env } from './config-values';

/** The message archive (see README's "The archive"). */
export interface ArchiveSettings {
  /**
   * PostgreSQL for the archive (DATABASE_URL=postgres://user:password@host:5432/db). Unset: no
   * archive; history ends with the room logs' window and search is refused. @default unset
   */
  databaseUrl: string | undefined;
  /** Archived messages older than this many days are deleted (ARCHIVE_RETENTION_DAYS). @default unset (kept) */
  archiveRetentionDays: number | undefined;
  /** Messages one node holds for the archive while it is slow or away (ARCHIVE_BACKLOG_MAX). @default 200_000 */
  archiveBacklogMax: number;
  /** Messages per archive INSERT (ARCHIVE_BATCH). @default 500 */
  archiveBatch: number;
  /**
   * With this set, a node also archives the messages another node appended, this long after
   * delivering them (ARCHIVE_FOLLOWER_DELAY_MS). Unset: only the appending node writes a
   * message, and the recovery sweep covers one that died first. @default unset
   */
  archiveFollowerDelayMs: number | undefined;
  /**
   * How often the recovery sweep (one node at a time) writes what the room logs hold and the
   * archive lacks (ARCHIVE_SWEEP_MS). @default 2_000
   */
  archiveSweepMs: number;
}

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['postgres:', 'postgresql:'].includes(url.protocol)) {
    // The value may hold a password: name the setting, not its value.
    throw new ConfigError('DATABASE_URL', '<hidden>', 'a URL like postgres://user:pw@host:5432/db');
  }
  return raw;
}

export function archiveSettings(env: Env): ArchiveSettings {
  return {
    databaseUrl: databaseUrl(env),
    archiveRetentionDays: optionalInteger(env, 'ARCHIVE_RETENTION_DAYS', 1, 36_500),
    archiveBacklogMax: integer(env, 'ARCHIVE_BACKLOG_MAX', 200_000, 1_000, 100_000_000),
    archiveBatch: integer(env, 'ARCHIVE_BATCH', 500, 1, 10_000),
    archiveFollowerDelayMs: optionalInteger(env, 'ARCHIVE_FOLLOWER_DELAY_MS', 0, 600_000),
    archiveSweepMs: integer(env, 'ARCHIVE_SWEEP_MS', 2_000, 100, 600_000),
  };
}
