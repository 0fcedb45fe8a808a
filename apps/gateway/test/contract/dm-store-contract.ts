import { describe, expect, it, vi } from 'vitest';
import type { Bus } from '../../src/broker/bus';
import { conversationId, type DmStore } from '../../src/broker/dm-store';
import type { DmDraft, Envelope } from '../../src/broker/envelope';
import type { Topic } from '../../src/broker/topics';

/** A DM store and a bus on the same broker (to watch user topics), fresh for each test. */
export interface DmFixture {
  store: DmStore;
  bus: Bus;
}

export interface DmFixtureOptions {
  limit: number;
  ttlMs: number;
  /** With an archive (DATABASE_URL): conversations are indexed by activity (`active`). */
  archived?: boolean;
}

const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 10 });
const alice = { id: 11, name: 'alice' };
const bob = { id: 12, name: 'bob' };
let counter = 0;

/** A DM draft (alice to bob unless named), with a fresh id. */
export function dmDraft(text: string, from = alice, to = bob): DmDraft {
  return {
    v: 1,
    type: 'dm',
    origin: 'n1',
    conversation: conversationId(from.id, to.id),
    id: `dm-${++counter}`,
    from,
    to,
    sid: 's1',
    text,
    ts: Date.now(),
  };
}

async function watch(bus: Bus, ...userIds: number[]) {
  const received: { envelope: Envelope; topic: Topic }[] = [];
  bus.setHandler({
    envelope: (envelope, topic) => received.push({ envelope, topic }),
    down: () => undefined,
    resumed: () => undefined,
  });
  for (const userId of userIds) await bus.subscribe({ kind: 'user', userId });
  return received;
}

/** What every DmStore promises (see dm-store.ts), run against each backend. */
export function dmStoreContract(
  label: string,
  open: (options: DmFixtureOptions) => Promise<DmFixture>,
): void {
  describe(`DmStore contract: ${label}`, () => {
    it('lists conversations by their latest activity, from a time on, only with an archive', async () => {
      const plain = await open({ limit: 100, ttlMs: 60_000 });
      await plain.store.append(dmDraft('not indexed without an archive'), {});
      expect((await plain.store.active(0, 10)).conversations).toEqual([]);
      const { store } = await open({ limit: 100, ttlMs: 60_000, archived: true });
      const carol = { id: 13, name: 'carol' };
      await store.append(dmDraft('first'), {});
      const [first] = (await store.active(0, 10)).conversations;
      expect(first?.conversation).toBe('11-12');
      const firstAt = first?.at ?? 0;
      // The broker's clock moves on past the first DM's time before the second is sent.
      await eventually(async () => expect((await store.active(0, 1)).now).toBeGreaterThan(firstAt));
      await store.append(dmDraft('second', alice, carol), {});
      const all = await store.active(0, 10);
      expect(all.conversations.map((c) => c.conversation)).toEqual(['11-12', '11-13']);
      expect(all.now).toBeGreaterThanOrEqual(all.conversations[1]?.at ?? Infinity);
      const later = await store.active(firstAt + 1, 10);
      expect(later.conversations.map((c) => c.conversation)).toEqual(['11-13']);
      expect((await store.active(0, 1)).conversations).toHaveLength(1);
    });

    it('raises a conversation past positions already given, and never lowers it', async () => {
      const { store } = await open({ limit: 100, ttlMs: 60_000 });
      const conversation = conversationId(alice.id, bob.id);
      // The broker lost the conversation after seq 7 had been given: the next DM gets 8.
      await store.raise(conversation, 7);
      await store.raise(conversation, 3);
      expect(await store.append(dmDraft('after the loss'), {})).toMatchObject({
        status: 'stored',
        seq: 8,
      });
      expect((await store.since(conversation, 0, 10)).head).toBe(8);
    });

    it('assigns seqs in order and publishes each to both participants with its seq', async () => {
      const { store, bus } = await open({ limit: 100, ttlMs: 60_000 });
      const received = await watch(bus, alice.id, bob.id);
      for (const text of ['a', 'b', 'c']) {
        expect(await store.append(dmDraft(text), {})).toMatchObject({ status: 'stored' });
      }
      await eventually(() => expect(received).toHaveLength(6));
      const toBob = received.filter((r) => r.topic.kind === 'user' && r.topic.userId === bob.id);
      expect(toBob.map((r) => r.envelope)).toMatchObject([
        { type: 'dm', seq: 1, text: 'a', conversation: '11-12' },
        { seq: 2, text: 'b' },
        { seq: 3, text: 'c' },
      ]);
      const page = await store.page('11-12', 0, 2);
      expect(page.messages.map((m) => [m.seq, m.text])).toEqual([
        [2, 'b'],
        [3, 'c'],
      ]);
      expect(page).toMatchObject({ first: 1, head: 3 });
      expect((await store.since('11-12', 1, 10)).messages.map((m) => m.seq)).toEqual([2, 3]);
    });

    it('stores a retried DM (same cid) once and answers with the first id and seq', async () => {
      const { store } = await open({ limit: 100, ttlMs: 60_000 });
      const first = dmDraft('once');
      expect(await store.append(first, { cid: 'c1' })).toEqual({ status: 'stored', seq: 1 });
      expect(await store.append(dmDraft('once'), { cid: 'c1' })).toEqual({
        status: 'duplicate',
        id: first.id,
        seq: 1,
      });
      expect((await store.page(first.conversation, 0, 10)).head).toBe(1);
    });

    it("records a DM's first recipient with its cid: a try of it to another user is sent back there", async () => {
      const { store } = await open({ limit: 100, ttlMs: 60_000 });
      const carol = { id: 13, name: 'bob' };
      expect(await store.firstRecipient(alice.id, 'c1')).toBeUndefined();
      const first = dmDraft('for the first bob');
      expect(await store.append(first, { cid: 'c1' })).toEqual({ status: 'stored', seq: 1 });
      expect(await store.firstRecipient(alice.id, 'c1')).toEqual(bob);
      // The name changed hands; the same DM resolved to the new holder is not stored for them.
      const again = dmDraft('for the first bob', alice, carol);
      expect(await store.append(again, { cid: 'c1' })).toEqual({ status: 'redirected', to: bob });
      expect((await store.page(again.conversation, 0, 10)).head).toBe(0);
      expect(await store.append(dmDraft('for the first bob'), { cid: 'c1' })).toMatchObject({
        status: 'duplicate',
        seq: 1,
      });
    });

    it('answers a retry from another broker generation from its cid record alone, storing nothing', async () => {
      const { store } = await open({ limit: 100, ttlMs: 60_000 });
      const first = dmDraft('kept');
      await store.append(first, { cid: 'c1' });
      const older = { firstGeneration: 'older' };
      expect(await store.append(dmDraft('kept'), { cid: 'c1', ...older })).toEqual({
        status: 'duplicate',
        id: first.id,
        seq: 1,
      });
      expect(await store.append(dmDraft('gone'), { cid: 'c2', ...older })).toEqual({
        status: 'unsure',
      });
      expect((await store.page(first.conversation, 0, 10)).head).toBe(1);
    });

    it('keeps the newest `limit` messages; the page says where the conversation now starts', async () => {
      const { store } = await open({ limit: 3, ttlMs: 60_000 });
      for (let i = 1; i <= 5; i++) await store.append(dmDraft(`m${i}`), {});
      const page = await store.page('11-12', 0, 10);
      expect(page.messages.map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
      expect(page).toMatchObject({ first: 3, head: 5 });
    });

    it('lists conversations per user with marks that only go up; the sender has read what they sent', async () => {
      const { store } = await open({ limit: 100, ttlMs: 60_000 });
      await store.append(dmDraft('hi'), {});
      await store.append(dmDraft('there'), {});
      await store.mark(bob.id, '11-12', 'read', 2);
      await store.mark(bob.id, '11-12', 'read', 1);
      expect(await store.conversations(bob.id)).toMatchObject([
        {
          conversation: '11-12',
          head: 2,
          first: 1,
          read: 2,
          delivered: 0,
          last: { text: 'there' },
        },
      ]);
      expect(await store.conversations(alice.id)).toMatchObject([{ read: 2, delivered: 2 }]);
      expect(await store.conversations(99)).toEqual([]);
    });

    it('forgets a conversation after ttlMs without messages; it starts over at seq 1', async () => {
      const { store } = await open({ limit: 100, ttlMs: 300 });
      await store.append(dmDraft('old'), {});
      await eventually(async () => expect(await store.conversations(bob.id)).toEqual([]));
      expect((await store.page('11-12', 0, 10)).messages).toEqual([]);
      expect(await store.append(dmDraft('new'), {})).toEqual({ status: 'stored', seq: 1 });
    });

    it("remembers a name's last holder by user id, case-insensitively", async () => {
      const { store } = await open({ limit: 100, ttlMs: 60_000 });
      expect(await store.lastHolder('Bob')).toBeUndefined();
      await store.noteHolder('bob', 12);
      await store.noteHolder('BOB', 40);
      expect(await store.lastHolder('Bob')).toBe(40);
    });
  });
}
