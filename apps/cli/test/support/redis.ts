import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { getContainerRuntimeClient } from 'testcontainers';

/**
 * A real Redis in Docker, from REDIS_IMAGE (set by vitest.shared.ts; offline machines get a
 * locally built image). Without a reachable engine this fails with one line saying how to get
 * one: tests that need Docker are never skipped.
 */
export async function startRedis(): Promise<StartedRedisContainer> {
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'No Docker engine reachable: this test needs one. Start Docker, or on Debian run `sudo bash infra/docker-engine.sh` (and `sudo bash infra/offline-images.sh` without a registry).',
    );
  }
  return new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7').start();
}
