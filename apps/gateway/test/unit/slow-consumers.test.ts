import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/logger';
import type { Metrics } from '../../src/metrics';
import type { LocalSession, Registry } from '../../src/sessions/registry';
import { SlowConsumerGuard } from '../../src/sessions/slow-consumers';

/** Sessions whose sockets hold `buffered[i]` bytes, and whether each was terminated. */
function fixture(buffered: number[]) {
  const terminated = buffered.map(() => false);
  const sessions = new Map<number, LocalSession>();
  buffered.forEach((_, i) => {
    const ws = {
      get bufferedAmount() {
        return buffered[i];
      },
      terminate: () => (terminated[i] = true),
    };
    const socket = { conn: { writeBuffer: [], transport: { socket: ws } } };
    sessions.set(i, { socket, user: { id: i, name: `u${i}` } } as unknown as LocalSession);
  });
  const registry = { all: () => sessions.values() } as unknown as Registry;
  const inc = vi.fn();
  const metrics = { slowConsumers: { inc } } as unknown as Metrics;
  const logger = { warn: vi.fn() } as unknown as Logger;
  const guard = new SlowConsumerGuard(registry, metrics, logger, 1_000, 250, 3);
  return { guard, terminated, inc };
}

describe('SlowConsumerGuard', () => {
  it('checks a bounded share of the sessions per tick, going on where it stopped', () => {
    const buffered = [0, 0, 0, 0, 0, 5_000, 0];
    const { guard, terminated, inc } = fixture(buffered);
    guard.sweep(); // sessions 0-2
    expect(terminated[5]).toBe(false);
    guard.sweep(); // sessions 3-5
    expect(terminated[5]).toBe(true);
    expect(inc).toHaveBeenCalledTimes(1);
  });

  it('starts over after the last session, so every session is checked again', () => {
    const buffered = [0, 0, 0, 0, 0, 0, 0];
    const { guard, terminated } = fixture(buffered);
    guard.sweep();
    guard.sweep();
    guard.sweep(); // session 6, then the end
    buffered[0] = 5_000;
    guard.sweep(); // from session 0 again
    expect(terminated[0]).toBe(true);
  });

  it('cuts a session off once, however many ticks see it over the limit', () => {
    const { guard, inc } = fixture([5_000]);
    for (let i = 0; i < 5; i++) guard.sweep();
    expect(inc).toHaveBeenCalledTimes(1);
  });
});
