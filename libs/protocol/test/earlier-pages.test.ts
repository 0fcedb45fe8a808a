import { describe, expect, it } from 'vitest';
import { dmHasEarlier, EarlierDms, EarlierPages } from '../src';

describe('EarlierPages', () => {
  it('asks for the newest page of a room nothing was seen in', () => {
    expect(new EarlierPages().request('dev')).toEqual({ room: 'dev', limit: 20 });
  });

  it('goes on before the earliest message seen, then before each page, in its epoch', () => {
    const pages = new EarlierPages();
    pages.seen('dev', 40, 'e1');
    pages.seen('dev', 38, 'e1');
    pages.seen('dev', 41, 'e1');
    expect(pages.request('dev')).toEqual({ room: 'dev', limit: 20, before: 38, epoch: 'e1' });
    const first = { id: 'x', room: 'dev', seq: 18, from: { id: 1, name: 'a' }, text: 't', ts: 1 };
    pages.paged({ room: 'dev', epoch: 'e1', messages: [first], more: true });
    expect(pages.request('dev')).toMatchObject({ before: 18, epoch: 'e1' });
    // An empty page with `more`: the room started over; the next asks the epoch's start.
    pages.paged({ room: 'dev', epoch: 'e0', messages: [], more: true });
    expect(pages.request('dev')).toMatchObject({ before: 0, epoch: 'e0' });
    expect(pages.request('other')).toEqual({ room: 'other', limit: 20 });
  });
});

describe('EarlierDms', () => {
  const ann = { id: 1, name: 'ann' };
  const ben = { id: 2, name: 'Ben' };
  const dm = (seq: number, ts: number) => ({
    id: `d${seq}`,
    conversation: '1-2',
    seq,
    from: ann,
    to: ben,
    text: `t${seq}`,
    ts,
  });

  it('asks for the newest page first, then before the earliest message shown, by seq and ts', () => {
    const pages = new EarlierDms();
    expect(pages.request('Ben')).toEqual({ with: 'Ben', limit: 20 });
    const page = { conversation: '1-2', with: ben, first: 1, head: 60, more: true };
    pages.paged('Ben', { ...page, messages: [dm(41, 4_100), dm(42, 4_200)] });
    // The same user however the name is typed.
    expect(pages.request('ben')).toEqual({ with: 'ben', limit: 20, before: 41, beforeTs: 4_100 });
    // An empty page (the start was reached) keeps the cursor where it was.
    pages.paged('ben', { ...page, messages: [], more: false });
    expect(pages.request('ben')).toMatchObject({ before: 41, beforeTs: 4_100 });
    expect(pages.request('cat')).toEqual({ with: 'cat', limit: 20 });
  });

  it('tells whether anything is earlier, with an archive (`more`) or from the Redis window', () => {
    const page = { conversation: '1-2', with: ben, head: 60 };
    expect(dmHasEarlier({ ...page, first: 1, messages: [dm(5, 1)], more: false })).toBe(false);
    expect(dmHasEarlier({ ...page, first: 1, messages: [], more: true })).toBe(true);
    expect(dmHasEarlier({ ...page, first: 3, messages: [dm(5, 1)] })).toBe(true);
    expect(dmHasEarlier({ ...page, first: 5, messages: [dm(5, 1)] })).toBe(false);
  });
});
