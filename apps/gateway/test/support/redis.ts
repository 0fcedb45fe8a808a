import { Redis } from 'ioredis';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Wait,
  type StartedTestContainer,
} from 'testcontainers';

/** Fails with one clear line when no engine is reachable: these tests are never skipped. */
async function requireDocker(): Promise<void> {
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'No Docker engine reachable: these tests need one. Start Docker, or on Debian run `sudo bash infra/docker-engine.sh` (and `sudo bash infra/offline-images.sh` without a registry).',
    );
  }
}

/** Starts a real Redis in Docker. */
export async function startRedis(command: string[] = []): Promise<StartedRedisContainer> {
  await requireDocker();
  const image = process.env.REDIS_IMAGE ?? 'redis:7';
  const container = new RedisContainer(image);
  if (command.length > 0) container.withCommand(['redis-server', ...command]);
  return container.start();
}

/**
 * A Redis on a fixed host port with append-only persistence, so it can be restarted (or paused)
 * under running gateways: `restart()` keeps the port and the data.
 */
export async function startRestartableRedis(hostPort: number): Promise<StartedTestContainer> {
  await requireDocker();
  return new GenericContainer(process.env.REDIS_IMAGE ?? 'redis:7')
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

/** A plain connection for a test to poke Redis with; it never reconnects or reports errors. */
export function adminClient(url: string): Redis {
  const redis = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  return redis;
}
