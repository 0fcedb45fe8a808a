import { describe, expect, it } from 'vitest';
import { Outbox } from '../src/outbox';

describe('Outbox', () => {
  it('sends one line at a time in typing order, and resends a released line with its cid', () => {
    const outbox = new Outbox();
    const first = outbox.add({ kind: 'send', text: 'one', room: 'lobby' });
    const second = outbox.add({ kind: 'dm', text: 'two', to: 'bob' });
    expect(first.cid).not.toBe(second.cid);

    expect(outbox.take()).toBe(first);
    expect(outbox.take()).toBeUndefined(); // one in flight at a time
    outbox.release(); // the connection dropped: the same line goes again
    expect(outbox.take()).toBe(first);
    outbox.settle(second.cid); // not the one in flight: changes nothing
    expect(outbox.size).toBe(2);
    outbox.settle(first.cid);
    expect(outbox.take()).toBe(second);
    outbox.settle(second.cid);
    expect(outbox.take()).toBeUndefined();
    expect(outbox.size).toBe(0);
  });
});
