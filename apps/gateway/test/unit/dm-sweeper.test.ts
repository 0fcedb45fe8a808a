import { describe, expect, it } from 'vitest';
import type { Archive, ArchivedDm } from '../../src/archive/archive';
import { DmSweeper } from '../../src/archive/dm-sweeper';
import { conversationId, type DmPage } from '../../src/broker/dm-store';
import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryDms } from '../../src/broker/memory/memory-dms';
import { createLogger } from '../../src/logger';

const HOUR = 3_600_000;
const ann = { id: 1, name: 'ann' };
const ben = { id: 2, name: 'ben' };
const cat = { id: 3, name: 'cat' };

/** archive_dms in memory, keyed like the real table, counting INSERT statements. */
class FakeArchive implements Pick<Archive, 'writeDms'> {
  readonly rows = new Map<string, ArchivedDm>();
  statements = 0;
  async writeDms(messages: readonly ArchivedDm[]): Promise<number> {
    this.statements++;
    let added = 0;
    for (const m of messages) {
      const key = `${m.conversation} ${m.seq} ${m.id}`;
      if (!this.rows.has(key)) added++;
      this.rows.set(key, m);
    }
    return added;
  }
  texts(): string[] {
    return [...this.rows.values()].map((m) => m.text).sort();
  }
}

/** The conversations (MemoryDms with the activity index) on a clock the test moves, counting log reads. */
function fixture() {
  let clock = 1_000 * HOUR;
  const store = new MemoryDms(
    new MemoryBroker(),
    { limit: 100, ttlMs: 24 * HOUR, activeMs: HOUR },
    () => clock,
  );
  const archive = new FakeArchive();
  let reads = 0;
  let swept = 0;
  const counted =
    <A extends unknown[]>(read: (...args: A) => Promise<DmPage>) =>
    (...args: A) => {
      reads++;
      return read(...args);
    };
  const sweeper = new DmSweeper(
    {
      archive: archive as unknown as Archive,
      logger: createLogger('me', 'silent'),
      logs: {
        active: (from, limit) => store.active(from, limit),
        page: counted((c: string, before: number, limit: number) => store.page(c, before, limit)),
        since: counted((c: string, after: number, limit: number) => store.since(c, after, limit)),
      },
      swept: (count) => (swept += count),
    },
    { batchSize: 2, horizonMs: HOUR },
  );
  let n = 0;
  const send = async (from: typeof ann, to: typeof ann, text: string) => {
    const id = `dm${++n}`;
    const conversation = conversationId(from.id, to.id);
    const draft = { v: 1 as const, type: 'dm' as const, origin: 'n1', sid: 's', ts: clock };
    const outcome = await store.append({ ...draft, id, conversation, from, to, text }, {});
    if (outcome.status !== 'stored') throw new Error(outcome.status);
    return { conversation, seq: outcome.seq, id, from, to, text, ts: clock };
  };
  return {
    store,
    archive,
    sweeper,
    send,
    tick: (ms = 2_000) => (clock += ms),
    reads: () => reads,
    swept: () => swept,
  };
}

describe('DmSweeper', () => {
  it('archives the DMs no node wrote, a round after it sees them, each once', async () => {
    const f = fixture();
    await f.sweeper.sweep();
    const written = await f.send(ann, ben, 'archived by its node');
    await f.archive.writeDms([written]);
    for (const text of ['lost one', 'lost two', 'lost three']) await f.send(ann, ben, text);
    f.tick();
    await f.sweeper.sweep();
    // The first round only notes the head: the live writers get a round to write it.
    expect(f.archive.texts()).toEqual(['archived by its node']);
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.texts()).toEqual([
      'archived by its node',
      'lost one',
      'lost three',
      'lost two',
    ]);
    expect(f.swept()).toBe(3);
    // Covered and quiet, the conversation was dropped; a later DM lists it again, and it is read
    // back to the previous listing only.
    await f.send(ben, ann, 'lost four');
    f.tick();
    await f.sweeper.sweep();
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.texts()).toContain('lost four');
    expect(f.swept()).toBe(4);
  });

  it('follows a busy conversation round after round, each DM written once', async () => {
    const f = fixture();
    await f.sweeper.sweep();
    for (const text of ['a', 'b', 'c', 'd']) {
      await f.send(ann, ben, text);
      f.tick();
      await f.sweeper.sweep();
    }
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.texts()).toEqual(['a', 'b', 'c', 'd']);
    // One row per statement: each round had one new DM, read forward from the last covered.
    expect(f.archive.statements).toBe(4);
    expect(f.swept()).toBe(4);
  });

  it('forgets a conversation once covered and quiet: quiet rounds read no log', async () => {
    const f = fixture();
    await f.sweeper.sweep();
    await f.send(ann, ben, 'one');
    for (let i = 0; i < 4; i++) {
      f.tick();
      await f.sweeper.sweep();
    }
    expect(f.archive.texts()).toEqual(['one']);
    const reads = f.reads();
    const statements = f.archive.statements;
    f.tick();
    await f.sweeper.sweep();
    f.tick();
    await f.sweeper.sweep();
    expect(f.reads()).toBe(reads);
    expect(f.archive.statements).toBe(statements);
  });

  it('takes a conversation that comes back to life from where the last listing ended, not from its start', async () => {
    const f = fixture();
    for (const text of ['old one', 'old two', 'old three']) await f.send(ann, cat, text);
    f.tick(2 * HOUR);
    // A new sweeper (lease taken over) looks back one horizon: the old DMs are beyond it.
    await f.sweeper.sweep();
    await f.send(cat, ann, 'new');
    f.tick();
    await f.sweeper.sweep();
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.texts()).toEqual(['new']);
  });

  it('looks back one horizon when it takes the sweep over, in pages', async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) await f.send(ann, ben, `before the takeover ${i}`);
    await f.send(ann, cat, 'another conversation');
    f.tick(HOUR / 2);
    await f.sweeper.sweep();
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.rows.size).toBe(6);
    // batchSize 2: six rows in three statements.
    expect(f.archive.statements).toBe(3);
  });

  it('starts over with a conversation Redis forgot', async () => {
    const f = fixture();
    await f.sweeper.sweep();
    await f.send(ann, ben, 'first life');
    f.tick();
    await f.sweeper.sweep();
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.texts()).toEqual(['first life']);
    f.tick(25 * HOUR);
    f.sweeper.reset();
    await f.sweeper.sweep();
    await f.send(ann, ben, 'second life');
    f.tick();
    await f.sweeper.sweep();
    f.tick();
    await f.sweeper.sweep();
    expect(f.archive.texts()).toEqual(['first life', 'second life']);
    expect([...f.archive.rows.values()].map((m) => m.seq)).toEqual([1, 1]);
  });
});
