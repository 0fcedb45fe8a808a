import { describe, expect, it } from 'vitest';
import { EarlierPages } from '../src';

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
