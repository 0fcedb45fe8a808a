import { describe, expect, it } from 'vitest';
import type { Archive, ArchivedMessage } from '../../src/archive/archive';
import { ArchiveSweeper } from '../../src/archive/archive-sweeper';
import type { StoredRange } from '../../src/broker/bus';
import type { MessageEnvelope } from '../../src/broker/envelope';
import { createLogger } from '../../src/logger';

/** The archive's rows in memory, counting the sweep's queries. */
class FakeArchive implements Pick<Archive, 'write' | 'archivedCount' | 'sweepLease'> {
  readonly rows = new Map<string, ArchivedMessage>();
  leased = true;
  countQueries = 0;
  async write(messages: readonly ArchivedMessage[]): Promise<number> {
    let added = 0;
    for (const m of messages) {
      const key = `${m.room} ${m.epoch} ${m.seq}`;
      if (!this.rows.has(key)) added++;
      this.rows.set(key, m);
    }
    return added;
  }
  async archivedCount(room: string, epoch: string, after: number, upTo: number): Promise<number> {
    this.countQueries++;
    return [...this.rows.values()].filter(
      (m) => m.room === room && m.epoch === epoch && m.seq > after && m.seq <= upTo,
    ).length;
  }
  async sweepLease(): Promise<boolean> {
    return this.leased;
  }
  seqs(room: string): number[] {
    return [...this.rows.values()]
      .filter((m) => m.room === room)
      .map((m) => m.seq)
      .sort((a, b) => a - b);
  }
}

/** Room logs in memory, as Bus.range reads them. */
class FakeLogs {
  readonly logs = new Map<string, MessageEnvelope[]>();
  reads = 0;
  append(room: string, count: number): void {
    const log = this.logs.get(room) ?? [];
    for (let i = 0; i < count; i++) {
      const seq = (log.at(-1)?.seq ?? 0) + 1;
      const from = { id: 1, name: 'ann' };
      log.push({
        v: 1,
        type: 'message',
        origin: 'n',
        seq,
        id: `m${seq}`,
        room,
        from,
        sid: 's',
        text: `t${seq}`,
        ts: seq,
      });
    }
    this.logs.set(room, log);
  }
  async range(room: string, after: number, limit: number): Promise<StoredRange> {
    this.reads++;
    const log = this.logs.get(room) ?? [];
    const head = log.at(-1)?.seq ?? 0;
    return {
      messages: log.filter((m) => m.seq > after).slice(0, limit),
      first: log[0]?.seq ?? head + 1,
      head,
      ...(log.length === 0 ? {} : { epoch: 'e1' }),
    };
  }
}

function sweeper(archive: FakeArchive, logs: FakeLogs, rooms: () => string[]) {
  let swept = 0;
  const s = new ArchiveSweeper(
    {
      archive: archive as unknown as Archive,
      logger: createLogger('me', 'silent'),
      rooms: async () => rooms(),
      range: (room, after, limit) => logs.range(room, after, limit),
      swept: (count) => (swept += count),
    },
    { batchSize: 2 },
  );
  return { s, swept: () => swept };
}

describe('ArchiveSweeper', () => {
  it('writes what the log holds and the archive lacks, a round after it sees it, in pages', async () => {
    const archive = new FakeArchive();
    const logs = new FakeLogs();
    const { s, swept } = sweeper(archive, logs, () => ['r']);
    logs.append('r', 5);
    await archive.write([
      { room: 'r', epoch: 'e1', seq: 1, id: 'm1', from: { id: 1, name: 'ann' }, text: 't1', ts: 1 },
    ]);
    await s.round();
    // The first round only notes the head: the live writers get a round to write it.
    expect(archive.seqs('r')).toEqual([1]);
    await s.round();
    expect(archive.seqs('r')).toEqual([1, 2, 3, 4, 5]);
    expect(swept()).toBe(4);
  });

  it('fills a hole below messages already archived (a later one written by a live node)', async () => {
    const archive = new FakeArchive();
    const logs = new FakeLogs();
    const { s } = sweeper(archive, logs, () => ['r']);
    logs.append('r', 3);
    const [, second, third] = (await logs.range('r', 0, 3)).messages;
    await archive.write([second, third].map((m) => ({ ...(m as MessageEnvelope), epoch: 'e1' })));
    await s.round();
    await s.round();
    expect(archive.seqs('r')).toEqual([1, 2, 3]);
  });

  it('costs one head read per room whose head did not move', async () => {
    const archive = new FakeArchive();
    const logs = new FakeLogs();
    const { s } = sweeper(archive, logs, () => ['a', 'b']);
    logs.append('a', 3);
    logs.append('b', 3);
    await s.round();
    await s.round();
    const before = { reads: logs.reads, queries: archive.countQueries };
    await s.round();
    expect(logs.reads - before.reads).toBe(2);
    expect(archive.countQueries - before.queries).toBe(0);
  });

  it('keeps sweeping a room whose members are gone until its log is archived, then forgets it', async () => {
    const archive = new FakeArchive();
    const logs = new FakeLogs();
    let listed = ['r'];
    const { s } = sweeper(archive, logs, () => listed);
    await s.round();
    logs.append('r', 3);
    await s.round();
    // The node holding the room's members died and was reaped: the room is no longer listed.
    listed = [];
    await s.round();
    expect(archive.seqs('r')).toEqual([1, 2, 3]);
    const reads = logs.reads;
    await s.round();
    expect(logs.reads).toBe(reads);
  });

  it('writes nothing while another node holds the sweep lease', async () => {
    const archive = new FakeArchive();
    archive.leased = false;
    const logs = new FakeLogs();
    const { s } = sweeper(archive, logs, () => ['r']);
    logs.append('r', 2);
    await s.round();
    await s.round();
    expect(archive.seqs('r')).toEqual([]);
    expect(logs.reads).toBe(0);
  });
});
