import { describe, expect, it } from 'vitest';
import type { MessageEnvelope } from '../../src/broker/envelope';
import { MemoryBudget, RecentWindow } from '../../src/delivery/recent-window';

function message(seq: number, text = `t${seq}`): MessageEnvelope {
  return {
    v: 1,
    type: 'message',
    origin: 'n',
    seq,
    id: `m${seq}`,
    room: 'lobby',
    from: { id: 1, name: 'a' },
    sid: 's',
    text,
    ts: seq,
  };
}

const seqs = (range: { messages: MessageEnvelope[] } | undefined) =>
  range?.messages.map((m) => m.seq);

describe('a room window in memory', () => {
  it('serves a page only when it holds everything after the cursor', () => {
    const window = new RecentWindow({
      maxMessages: 5,
      maxBytes: 1e9,
      budget: new MemoryBudget(1e9),
    });
    for (let seq = 1; seq <= 8; seq++) window.add(message(seq));
    // Keeps the newest 5: 4..8.
    expect(window.holds(4)).toBe(true);
    expect(window.holds(3)).toBe(false);
    expect(window.page(2, 100, 1e9)).toBeUndefined();
    expect(window.page(3, 100, 1e9)).toMatchObject({ first: 4, head: 8 });
    expect(seqs(window.page(3, 2, 1e9))).toEqual([4, 5]);
    expect(seqs(window.page(8, 100, 1e9))).toEqual([]);
  });

  it('empties on a seq that does not follow its newest, so what it serves has no gap', () => {
    const window = new RecentWindow({
      maxMessages: 10,
      maxBytes: 1e9,
      budget: new MemoryBudget(1e9),
    });
    window.add(message(1));
    window.add(message(2));
    window.add(message(5));
    expect(window.page(0, 100, 1e9)).toBeUndefined();
    expect(seqs(window.page(4, 100, 1e9))).toEqual([5]);
  });

  it('holds one epoch: a message of another empties it, and a page names the epoch', () => {
    const window = new RecentWindow({
      maxMessages: 10,
      maxBytes: 1e9,
      budget: new MemoryBudget(1e9),
    });
    window.add({ ...message(1), epoch: 'old' });
    window.add({ ...message(2), epoch: 'old' });
    expect(window.page(0, 100, 1e9)).toMatchObject({ epoch: 'old', first: 1, head: 2 });
    // The log went on in a new epoch at the next seq: positions 1 and 2 are not the new epoch's.
    window.add({ ...message(3), epoch: 'new' });
    expect(window.epoch).toBe('new');
    expect(window.page(0, 100, 1e9)).toBeUndefined();
    expect(window.page(2, 100, 1e9)).toMatchObject({ epoch: 'new', first: 3, head: 3 });
  });

  it('stays within its bytes and within the budget shared by every room of the node', () => {
    const budget = new MemoryBudget(10_000);
    const a = new RecentWindow({ maxMessages: 1_000, maxBytes: 4_000, budget });
    const b = new RecentWindow({ maxMessages: 1_000, maxBytes: 1e9, budget });
    for (let seq = 1; seq <= 100; seq++) a.add(message(seq, 'x'.repeat(500)));
    expect(a.holds(99)).toBe(true);
    expect(a.holds(97)).toBe(false);
    for (let seq = 1; seq <= 100; seq++) b.add(message(seq, 'y'.repeat(500)));
    expect(budget.used).toBeLessThanOrEqual(10_000);
    a.clear();
    b.clear();
    expect(budget.used).toBe(0);
  });
});

describe('a full room window', () => {
  it('keeps serving the newest messages, in order, over many evictions', () => {
    const budget = new MemoryBudget(1e9);
    const window = new RecentWindow({ maxMessages: 100, maxBytes: 1e9, budget });
    for (let seq = 1; seq <= 1_050; seq++) window.add(message(seq));
    expect(window.holds(951)).toBe(true);
    expect(window.holds(950)).toBe(false);
    expect(window.newest).toBe(1_050);
    expect(seqs(window.page(950, 1_000, 1e9))).toEqual(
      Array.from({ length: 100 }, (_, i) => 951 + i),
    );
    expect(seqs(window.page(1_047, 2, 1e9))).toEqual([1_048, 1_049]);
    // What is held counts against the budget, what was evicted no longer does.
    let held = 0;
    for (let seq = 951; seq <= 1_050; seq++) held += 2 * `t${seq}`.length + 256;
    expect(budget.used).toBe(held);
    window.clear();
    expect(window.newest).toBeUndefined();
    expect(budget.used).toBe(0);
  });
});
