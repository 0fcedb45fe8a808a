import { describe, expect, it } from 'vitest';
import type { RedisBackend } from '../../src/broker/redis/redis-backend';
import { RedisNames } from '../../src/broker/redis/names';
import { RedisState } from '../../src/broker/redis/redis-state';

describe('RedisState.renewNames over several chunks', () => {
  it('fails the round when a chunk fails, and leaves no rejection unhandled while the later chunks wait for their turn', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const chunks: number[] = [];
      const backend = {
        names: new RedisNames('t'),
        run: (_script: unknown, args: { more: { keys: string[] } }) => {
          chunks.push(args.more.keys.length);
          return Promise.reject(new Error('redis went away'));
        },
      } as unknown as RedisBackend;
      const users = Array.from({ length: 600 }, (_, i) => ({ id: i + 1, name: `user${i}` }));
      await expect(new RedisState(backend).renewNames(users, 30_000)).rejects.toThrow(
        'redis went away',
      );
      expect(chunks).toEqual([256, 256, 88]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
