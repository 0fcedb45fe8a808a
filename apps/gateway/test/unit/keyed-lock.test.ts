import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../src/sessions/keyed-lock';

describe('KeyedLock', () => {
  it('runs tasks of one key one at a time, in order, even when they fail', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = lock.run('u1', async () => {
      log.push('first:start');
      await gate;
      log.push('first:end');
      throw new Error('boom');
    });
    const second = lock.run('u1', async () => {
      log.push('second');
      return 2;
    });
    const other = lock.run('u2', async () => {
      log.push('other');
    });
    await other;
    expect(log).toEqual(['first:start', 'other']);
    release();
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe(2);
    expect(log).toEqual(['first:start', 'other', 'first:end', 'second']);
    expect(lock.size).toBe(0);
  });
});
