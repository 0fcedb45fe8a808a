import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { getContainerRuntimeClient } from 'testcontainers';

/**
 * Starts a real Redis in Docker. Fails with one clear line when no engine is reachable: these
 * tests are never skipped.
 */
export async function startRedis(command: string[] = []): Promise<StartedRedisContainer> {
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'No Docker engine reachable: these tests need one. Start Docker, or on Debian run `sudo bash infra/docker-engine.sh` (and `sudo bash infra/offline-images.sh` without a registry).',
    );
  }
  const image = process.env.REDIS_IMAGE ?? 'redis:7';
  const container = new RedisContainer(image);
  if (command.length > 0) container.withCommand(['redis-server', ...command]);
  return container.start();
}
