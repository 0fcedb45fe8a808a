import { describe, expect, it } from 'vitest';
import { Backoff, sleep } from '../src/backoff';

describe('Backoff', () => {
  it('doubles from 100 ms to a 2 s cap, each delay jittered into [base/2, base]', () => {
    const low = new Backoff({ random: () => 0 });
    const high = new Backoff({ random: () => 1 });
    const bases = [100, 200, 400, 800, 1600, 2000, 2000];
    expect(bases.map(() => high.next())).toEqual(bases);
    expect(bases.map(() => low.next())).toEqual(bases.map((b) => b / 2));
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 1000, random: () => 1 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 40]);
    backoff.reset();
    expect(backoff.next()).toBe(10);
  });

  it('sleep ends early when its signal aborts', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, stop.signal);
    stop.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1_000);
    await sleep(10_000, stop.signal); // already aborted: returns at once
  });
});
