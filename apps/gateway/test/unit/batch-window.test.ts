import { describe, expect, it } from 'vitest';
import { BatchWindow } from '../../src/delivery/batch-window';

/** Feeds `count` messages spread evenly over [from, from + spanMs); returns the last plan. */
function feed(window: BatchWindow, from: number, spanMs: number, count: number) {
  let plan: ReturnType<BatchWindow['arrived']> = 'now';
  for (let i = 0; i < count; i++) plan = window.arrived(from + (i * spanMs) / count);
  return plan;
}

describe('BatchWindow', () => {
  it('sends a quiet room’s messages at once', () => {
    const window = new BatchWindow(5);
    // 10 messages in 250 ms: one per 25 ms, far below one per 5 ms window.
    expect(feed(window, 0, 250, 10)).toBe('now');
    expect(window.arrived(300)).toBe('now');
  });

  it('holds a busy room’s batch until its window after the last flush', () => {
    const window = new BatchWindow(5);
    // 500 messages in 250 ms: two per ms, so every window would carry several.
    feed(window, 0, 250, 500);
    window.flushed(251);
    expect(window.arrived(252)).toBe(4);
  });

  it('flushes at the end of the turn once the window has passed', () => {
    const window = new BatchWindow(5);
    feed(window, 0, 250, 500);
    window.flushed(251);
    expect(window.arrived(260)).toBe('end-of-turn');
  });

  it('goes quiet again when the rate drops', () => {
    const window = new BatchWindow(5);
    feed(window, 0, 250, 500);
    expect(window.arrived(252)).not.toBe('now');
    // The next full period carries two messages: the rate falls below one per window.
    window.arrived(400);
    expect(window.arrived(600)).toBe('now');
  });

  it('never batches with a window of 0', () => {
    const window = new BatchWindow(0);
    expect(feed(window, 0, 250, 5_000)).toBe('now');
    expect(window.arrived(251)).toBe('now');
  });
});
