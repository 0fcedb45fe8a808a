import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { Redis } from 'ioredis';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { requireDocker } from './docker';

/**
 * The Redis image: REDIS_IMAGE (vitest.shared.ts fills it from infra/.env, where offline
 * machines name a locally built image), else the official one.
 */
export function redisImage(): string {
  return process.env.REDIS_IMAGE ?? 'redis:7';
}

/** A throw-away Redis in Docker on a random host port; `getConnectionUrl()` reaches it. */
export async function startRedis(): Promise<StartedRedisContainer> {
  await requireDocker();
  return new RedisContainer(redisImage()).start();
}

/**
 * A Redis on a fixed host port with append-only persistence, so it can be restarted (or paused)
 * under running gateways: `restart()` keeps the port, hence the gateways' REDIS_URL, and the
 * data. DEBUG is enabled for tests that need to provoke Redis (e.g. `DEBUG SLEEP`).
 */
export async function startRestartableRedis(hostPort: number): Promise<StartedTestContainer> {
  await requireDocker();
  return new GenericContainer(redisImage())
    .withCommand([
      'redis-server',
      '--appendonly',
      'yes',
      '--protected-mode',
      'no',
      '--enable-debug-command',
      'yes',
    ])
    .withExposedPorts({ container: 6379, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
}

/**
 * A plain connection for a test to poke Redis with (SHUTDOWN, CLIENT KILL, reading keys). It
 * never reconnects and swallows connection errors, so killing Redis under it is not a failure;
 * commands on a dead connection still reject. Call `disconnect()` when done.
 */
export function adminClient(url: string): Redis {
  const redis = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  return redis;
}
