import { describe, expect, it } from 'vitest';
import type { DirectMessage } from '@chat/protocol';
import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryDms } from '../../src/broker/memory/memory-dms';
import { conversationId } from '../../src/broker/dm-store';
import { ENVELOPE_VERSION, type DmDraft, type DmEnvelope } from '../../src/broker/envelope';
import { createLogger } from '../../src/logger';
import { DmInbox } from '../../src/delivery/dm-inbox';
import type { LocalSession } from '../../src/sessions/registry';
import { eventually } from '../support/client';

const alice = { id: 1, name: 'alice' };
const bob = { id: 2, name: 'bob' };

const conversation = conversationId(alice.id, bob.id);

function draft(n: number): DmDraft {
  const base = { v: ENVELOPE_VERSION, type: 'dm', origin: 'n1', conversation } as const;
  return { ...base, id: `d${n}`, from: alice, to: bob, text: `dm ${n}`, ts: n, sid: 'alice-sid' };
}

function session(user: typeof bob, sid: string, got: DirectMessage[]): LocalSession {
  const socket = { emit: (_event: string, dm: DirectMessage) => got.push(dm) };
  return { socket, user, sid } as unknown as LocalSession;
}

describe('DmInbox', () => {
  it('gives a session the DMs it skipped (published out of order by two nodes) from the store, in order, once', async () => {
    const store = new MemoryDms(new MemoryBroker());
    const inbox = new DmInbox(store, createLogger('test', 'silent'));
    const got: DirectMessage[] = [];
    const bobs = session(bob, 'bob-1', got);
    await inbox.catchUp(bobs);
    const stored: DmEnvelope[] = [];
    for (const [from, sid, text] of [
      [alice, 'alice-1', 'one'],
      [bob, 'bob-2', 'two (bob, from his other session)'],
      [alice, 'alice-1', 'three'],
    ] as const) {
      const draft = {
        v: 1 as const,
        type: 'dm' as const,
        origin: 'n1',
        id: text,
        from,
        to: from.id === 1 ? bob : alice,
        sid,
        text,
        ts: 1,
        conversation: '1-2',
      };
      const outcome = await store.append(draft, {});
      if (outcome.status !== 'stored') throw new Error('not stored');
      stored.push({ ...draft, seq: outcome.seq });
    }
    const [one, two, three] = stored;
    if (!one || !two || !three) throw new Error('missing');
    // seq 3 arrives first: 1 and 2 are read from the store before it; the late ones change nothing.
    inbox.deliver(three, [bobs], bob.id);
    inbox.deliver(one, [bobs], bob.id);
    inbox.deliver(two, [bobs], bob.id);
    await eventually(() => expect(got.map((m) => m.seq)).toEqual([1, 2, 3]));
    inbox.deliver(one, [bobs], bob.id);
    expect(got.map((m) => m.text)).toEqual(['one', 'two (bob, from his other session)', 'three']);
  });

  it('does not count its own DMs as a gap, and never echoes them', async () => {
    const store = new MemoryDms(new MemoryBroker());
    const inbox = new DmInbox(store, createLogger('test', 'silent'));
    const got: DirectMessage[] = [];
    const bobs = session(bob, 'bob-1', got);
    await inbox.catchUp(bobs);
    const own = { v: 1 as const, type: 'dm' as const, origin: 'n1', id: 'a', from: bob, to: alice };
    const mine = { ...own, sid: 'bob-1', text: 'mine', ts: 1, conversation: '1-2', seq: 1 };
    const reply = { ...mine, id: 'b', from: alice, to: bob, sid: 'alice-1', text: 'reply', seq: 2 };
    inbox.deliver(mine, [bobs], bob.id);
    inbox.deliver(reply, [bobs], bob.id);
    expect(got.map((m) => m.text)).toEqual(['reply']);
  });

  // Found by the chaos soak: a DM that reached a session live between its registration and
  // its catch-up was given to it again by the catch-up (from the handshake's older position).
  it('never gives a session a DM twice when it arrived live before the catch-up', async () => {
    const store = new MemoryDms(new MemoryBroker());
    const inbox = new DmInbox(store, createLogger('test', 'silent'));
    await store.append(draft(1), {});
    const stored = await store.append(draft(2), {});
    if (stored.status !== 'stored') throw new Error('not stored');
    const given: DirectMessage[] = [];
    const bobs = session(bob, 'bob-sid', given);
    inbox.deliver({ ...draft(2), seq: stored.seq }, [bobs], bob.id);
    await inbox.catchUp(bobs, { [conversation]: 1 });
    expect(given.map((dm) => dm.seq)).toEqual([2]);
  });

  // Found by the chaos soak: a client that resumed before its DM's ack came back was sent
  // its own DM by the catch-up.
  it('never gives a session its own DM back when it catches up', async () => {
    const store = new MemoryDms(new MemoryBroker());
    const inbox = new DmInbox(store, createLogger('test', 'silent'));
    await store.append(draft(1), {});
    await store.append({ ...draft(2), from: bob, to: alice, sid: 'bob-sid' }, {});
    const given: DirectMessage[] = [];
    await inbox.catchUp(session(bob, 'bob-sid', given), { [conversation]: 0 });
    expect(given.map((dm) => dm.seq)).toEqual([1]);
  });
});
