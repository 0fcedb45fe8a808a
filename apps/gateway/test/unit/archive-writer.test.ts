import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  ArchiveUnavailableError,
  type Archive,
  type ArchivedMessage,
} from '../../src/archive/archive';
import { ArchiveMetrics } from '../../src/archive/archive-metrics';
import { ArchiveWriter } from '../../src/archive/archive-writer';
import type { MessageEnvelope } from '../../src/broker/envelope';
import { createLogger } from '../../src/logger';

/** An archive in memory that can be made to fail, keyed like the real one. */
class FakeArchive implements Pick<Archive, 'write' | 'writeDms'> {
  readonly rows = new Map<string, ArchivedMessage>();
  down = false;
  async write(messages: readonly ArchivedMessage[]): Promise<number> {
    if (this.down) throw new ArchiveUnavailableError(new Error('connection refused'));
    let added = 0;
    for (const m of messages) {
      const key = `${m.room} ${m.epoch} ${m.seq}`;
      if (!this.rows.has(key)) added++;
      this.rows.set(key, m);
    }
    return added;
  }
  async writeDms(): Promise<number> {
    return 0;
  }
}

function envelope(seq: number, origin: string, ts = 1_000): MessageEnvelope {
  const from = { id: 1, name: 'ann' };
  return {
    v: 1,
    type: 'message',
    origin,
    seq,
    id: `m${seq}`,
    room: 'r',
    from,
    sid: 's',
    text: `t${seq}`,
    ts,
  };
}

function writer(archive: FakeArchive, backlogMax = 1_000, followers = true) {
  const metrics = new ArchiveMetrics(new Registry(), () => ({ size: 0, ageSeconds: 0 }));
  const w = new ArchiveWriter(
    {
      archive: archive as unknown as Archive,
      nodeId: 'me',
      logger: createLogger('me', 'silent'),
      metrics,
      epochOf: async () => 'e1',
    },
    { batchSize: 2, backlogMax, followerDelayMs: followers ? 1_000 : undefined },
  );
  w.start();
  return w;
}

describe('ArchiveWriter', () => {
  it("by default writes only this node's messages: other nodes' are their own (or the sweep's)", async () => {
    const archive = new FakeArchive();
    const w = writer(archive, 1_000, false);
    w.offer(envelope(1, 'me'), 'e1');
    w.offer(envelope(2, 'other'), 'e1');
    expect(w.backlog().size).toBe(1);
    await w.flush(Date.now() + 1_000);
    expect([...archive.rows.keys()]).toEqual(['r e1 1']);
  });

  it("writes this node's messages at once and other nodes' after the follower delay", async () => {
    const archive = new FakeArchive();
    const w = writer(archive);
    const now = Date.now();
    w.offer(envelope(1, 'me'), 'e1', now);
    w.offer(envelope(2, 'other'), undefined, now);
    w.offer(envelope(3, 'me'), 'e1', now);
    await w.pump();
    expect([...archive.rows.keys()]).toEqual(['r e1 1', 'r e1 3']);
    expect(w.backlog(now).size).toBe(1);
    await w.flush(Date.now() + 1_000);
    // The epoch unknown at delivery is the room log's when written.
    expect([...archive.rows.keys()].sort()).toEqual(['r e1 1', 'r e1 2', 'r e1 3']);
    expect(w.backlog().size).toBe(0);
  });

  it('keeps what fails in the backlog, tells its age, and writes it once the archive is back', async () => {
    const archive = new FakeArchive();
    const w = writer(archive);
    archive.down = true;
    const sent = Date.now() - 30_000;
    for (let seq = 1; seq <= 5; seq++) w.offer(envelope(seq, 'me', sent), 'e1');
    await w.pump();
    expect(archive.rows.size).toBe(0);
    const backlog = w.backlog();
    expect(backlog.size).toBe(5);
    expect(backlog.ageSeconds).toBeGreaterThanOrEqual(30);
    archive.down = false;
    await w.flush(Date.now() + 5_000);
    expect(archive.rows.size).toBe(5);
    expect(w.backlog().size).toBe(0);
  });

  it('holds at most backlogMax, dropping the oldest of other nodes first', async () => {
    const archive = new FakeArchive();
    const w = writer(archive, 3);
    archive.down = true;
    w.offer(envelope(1, 'other'), 'e1');
    w.offer(envelope(2, 'me'), 'e1');
    w.offer(envelope(3, 'other'), 'e1');
    w.offer(envelope(4, 'me'), 'e1');
    expect(w.backlog().size).toBe(3);
    archive.down = false;
    await w.flush(Date.now() + 5_000);
    expect([...archive.rows.keys()].sort()).toEqual(['r e1 2', 'r e1 3', 'r e1 4']);
  });
});
