import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

describe('archive settings', () => {
  it('has no archive by default, keeps messages for good, and documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      databaseUrl: undefined,
      archiveRetentionDays: undefined,
      archiveBacklogMax: 200_000,
      archiveBatch: 500,
      archiveFollowerDelayMs: undefined,
      archiveSweepMs: 2_000,
    });
  });

  it('reads DATABASE_URL and ARCHIVE_RETENTION_DAYS', () => {
    expect(
      loadConfig({
        DATABASE_URL: 'postgresql://chat:pw@db:5432/chat',
        ARCHIVE_RETENTION_DAYS: '30',
      }),
    ).toMatchObject({ databaseUrl: 'postgresql://chat:pw@db:5432/chat', archiveRetentionDays: 30 });
  });

  it('names a bad DATABASE_URL without printing it (it may hold a password)', () => {
    const attempt = () => loadConfig({ DATABASE_URL: 'mysql://root:secret@db/chat' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^invalid DATABASE_URL="<hidden>": expected a URL like postgres:/);
    expect(attempt).not.toThrow(/secret/);
    expect(() => loadConfig({ ARCHIVE_RETENTION_DAYS: '0' })).toThrow(
      'invalid ARCHIVE_RETENTION_DAYS="0": expected an integer from 1 to 36500',
    );
  });
});
