import { usePostgres } from '@chat/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ArchivedDm, ArchivedMessage } from '../../src/archive/archive';
import { PgArchive } from '../../src/archive/pg-archive';
import { createLogger } from '../../src/logger';

/** The PostgreSQL archive on its own: retention, and the sweep's lease, one node at a time. */
describe('PgArchive', () => {
  const postgres = usePostgres();
  const archives: PgArchive[] = [];
  afterEach(async () => {
    await Promise.all(archives.splice(0).map((a) => a.close()));
  });

  async function open(): Promise<PgArchive> {
    const archive = new PgArchive({ url: postgres().url, logger: createLogger('t', 'silent') });
    archives.push(archive);
    await archive.migrate();
    return archive;
  }

  const ann = { id: 1, name: 'ann' };
  const ben = { id: 2, name: 'ben' };
  const message = (seq: number, ts: number): ArchivedMessage => ({
    room: 'kept',
    epoch: 'e1',
    seq,
    id: `m${seq}`,
    from: ann,
    text: `t${seq}`,
    ts,
  });
  const dm = (seq: number, ts: number): ArchivedDm => ({
    conversation: '1-2',
    seq,
    id: `d${seq}-${ts}`,
    from: ann,
    to: ben,
    text: `d${seq}`,
    ts,
  });

  it('retention deletes room and private messages older than the cutoff, and nothing newer', async () => {
    const archive = await open();
    await postgres().query('DELETE FROM archive_dms');
    await archive.write([message(1, 1_000), message(2, 5_000)]);
    await archive.writeDms([dm(1, 1_000), dm(2, 5_000)]);
    expect(await archive.prune(3_000)).toBe(2);
    expect((await archive.page('kept', 'e1', 10, 10)).map((m) => m.seq)).toEqual([2]);
    const left = await archive.dmPage('1-2', { ts: Number.MAX_SAFE_INTEGER, seq: 0 }, 10);
    expect(left.map((m) => m.seq)).toEqual([2]);
  });

  it('gives the sweep lease to one node at a time, and to another once its holder is gone', async () => {
    const [a, b] = [await open(), await open()];
    expect(await a.sweepLease()).toBe(true);
    expect(await b.sweepLease()).toBe(false);
    expect(await a.sweepLease()).toBe(true);
    await a.close();
    // PostgreSQL frees the lock when the closed session's backend exits, a moment after the
    // client hung up: b gets it at one of its next tries (the sweeper tries every round).
    await vi.waitFor(async () => expect(await b.sweepLease()).toBe(true), {
      timeout: 5_000,
      interval: 50,
    });
  });
});
