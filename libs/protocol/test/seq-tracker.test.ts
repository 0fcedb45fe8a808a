import { describe, expect, it } from 'vitest';
import { SeqTracker } from '../src/seq-tracker';

describe('SeqTracker', () => {
  it('knows nothing about a room before its first synced', () => {
    const seqs = new SeqTracker();
    seqs.seen('lobby', 3);
    expect(seqs.since('lobby')).toBeUndefined();
    expect(seqs.since('elsewhere')).toBeUndefined();
  });

  it('starts at synced and advances with each contiguous message', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 10);
    expect(seqs.since('lobby')).toBe(10);
    seqs.seen('lobby', 11);
    seqs.seen('lobby', 12);
    expect(seqs.since('lobby')).toBe(12);
  });

  it('counts history that arrived before synced', () => {
    const seqs = new SeqTracker();
    for (const seq of [8, 9, 10]) seqs.seen('lobby', seq);
    seqs.synced('lobby', 10);
    seqs.seen('lobby', 11);
    expect(seqs.since('lobby')).toBe(11);
    expect(seqs.pending('lobby')).toEqual([]);
  });

  it('holds at a hole until it is filled, e.g. our ack for N before N-1 arrives', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 0);
    seqs.seen('lobby', 1);
    seqs.seen('lobby', 3); // our own message, acked
    seqs.seen('lobby', 5);
    expect(seqs.since('lobby')).toBe(1);
    expect(seqs.pending('lobby')).toEqual([
      [3, 3],
      [5, 5],
    ]);
    seqs.seen('lobby', 2);
    expect(seqs.since('lobby')).toBe(3);
    seqs.seen('lobby', 4);
    expect(seqs.since('lobby')).toBe(5);
    expect(seqs.pending('lobby')).toEqual([]);
  });

  it('ignores duplicates and anything at or below the watermark', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 5);
    seqs.seen('lobby', 3);
    seqs.seen('lobby', 5);
    seqs.seen('lobby', 7);
    seqs.seen('lobby', 7);
    expect(seqs.since('lobby')).toBe(5);
    expect(seqs.pending('lobby')).toEqual([[7, 7]]);
    seqs.seen('lobby', 6);
    seqs.seen('lobby', 6);
    expect(seqs.since('lobby')).toBe(7);
  });

  it('steps over a gap, whether it touches the watermark or not', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 10);
    seqs.lost('lobby', 11, 20);
    expect(seqs.since('lobby')).toBe(20);
    seqs.lost('lobby', 30, 39);
    seqs.seen('lobby', 40);
    expect(seqs.since('lobby')).toBe(20);
    expect(seqs.pending('lobby')).toEqual([[30, 40]]);
    for (let seq = 21; seq <= 29; seq++) seqs.seen('lobby', seq);
    expect(seqs.since('lobby')).toBe(40);
  });

  it('merges overlapping and adjacent ranges into one', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 0);
    seqs.lost('lobby', 10, 12);
    seqs.lost('lobby', 5, 7);
    seqs.seen('lobby', 8);
    seqs.lost('lobby', 9, 9);
    seqs.lost('lobby', 11, 15);
    expect(seqs.pending('lobby')).toEqual([[5, 15]]);
    seqs.lost('lobby', 1, 4);
    expect(seqs.since('lobby')).toBe(15);
  });

  it('never moves back on a later synced with a lower seq', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 10);
    seqs.synced('lobby', 4);
    expect(seqs.since('lobby')).toBe(10);
    seqs.synced('lobby', 12);
    expect(seqs.since('lobby')).toBe(12);
  });

  it('a synced absorbs seen seqs just above it', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 1);
    seqs.seen('lobby', 4);
    seqs.seen('lobby', 6);
    seqs.synced('lobby', 3);
    expect(seqs.since('lobby')).toBe(4);
    expect(seqs.pending('lobby')).toEqual([[6, 6]]);
  });

  it('keeps rooms apart', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 1);
    seqs.synced('dev', 100);
    seqs.seen('dev', 101);
    seqs.seen('lobby', 2);
    expect([seqs.since('lobby'), seqs.since('dev')]).toEqual([2, 101]);
  });

  it('keeps each room log epoch and starts over when the epoch changes or the log restarted', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 10, false, 'e1');
    seqs.seen('lobby', 11);
    expect([seqs.since('lobby'), seqs.epoch('lobby')]).toEqual([11, 'e1']);
    seqs.synced('lobby', 4, false, 'e2');
    expect([seqs.since('lobby'), seqs.epoch('lobby')]).toEqual([4, 'e2']);
    seqs.synced('lobby', 3, true, 'e2');
    expect(seqs.since('lobby')).toBe(3);
    seqs.seen('dev', 1, 'e3');
    expect(seqs.epoch('dev')).toBe('e3');
  });

  it('counts the ack of the first message of a renewed log that came before the synced announcing it', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 66, false, 'e1');
    // Our send is the first of the log's new epoch: its ack (e2, 58) beats the renewal notice.
    seqs.seen('lobby', 58, 'e2');
    expect([seqs.since('lobby'), seqs.epoch('lobby')]).toEqual([66, 'e1']);
    seqs.synced('lobby', 57, false, 'e2');
    seqs.seen('lobby', 59);
    expect([seqs.since('lobby'), seqs.epoch('lobby')]).toEqual([59, 'e2']);
  });

  it('a synced without an epoch (the log lost whole) ends the epoch it knew: the next ack names the new one', () => {
    const seqs = new SeqTracker();
    seqs.synced('lobby', 66, false, 'e1');
    seqs.synced('lobby', 66);
    expect(seqs.epoch('lobby')).toBeUndefined();
    seqs.seen('lobby', 67, 'e2');
    expect([seqs.since('lobby'), seqs.epoch('lobby')]).toEqual([67, 'e2']);
  });
});

describe('SeqTracker.has', () => {
  it('knows seqs at or below the watermark and those seen above it, and nothing else', () => {
    const seqs = new SeqTracker();
    expect(seqs.has('lobby', 1)).toBe(false);
    seqs.synced('lobby', 5);
    seqs.seen('lobby', 8);
    expect([5, 6, 7, 8, 9].map((seq) => seqs.has('lobby', seq))).toEqual([
      true,
      false,
      false,
      true,
      false,
    ]);
    expect(seqs.has('dev', 1)).toBe(false);
  });
});
