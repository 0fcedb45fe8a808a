import { Redis } from 'ioredis';

/**
 * Runs `run` on a short-lived connection to the Redis server or sentinel on `port`: no
 * retries and no offline queue, since the harness talks to servers it is about to fault.
 */
export async function withAdmin<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}
