import type { StartedRedisContainer } from '@testcontainers/redis';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './free-port';
import { startRedis, startRestartableRedis } from './redis';

/** Pulling or starting an image on a busy machine takes longer than Vitest's 10 s default. */
export const CONTAINER_HOOK_TIMEOUT_MS = 120_000;

/** A suite's Redis; reading `url` before the suite's `beforeAll` has run is a test bug. */
export interface SuiteRedis {
  readonly url: string;
}

/** A suite's Redis that the tests may restart, pause or shut down. */
export interface RestartableSuiteRedis extends SuiteRedis {
  readonly container: StartedTestContainer;
}

/**
 * A Redis for the enclosing suite (file or `describe`): started before its tests, stopped after
 * them. Tests share it, so each keeps its keys apart (a REDIS_PREFIX of its own).
 */
export function useRedis(): SuiteRedis {
  let container: StartedRedisContainer | undefined;
  beforeAll(async () => {
    container = await startRedis();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await container?.stop();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  return {
    get url() {
      if (!container) throw new Error('Redis is not started yet');
      return container.getConnectionUrl();
    },
  };
}

/** Like useRedis, with a Redis that keeps its port and data across `container.restart()`. */
export function useRestartableRedis(): RestartableSuiteRedis {
  let container: StartedTestContainer | undefined;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    container = await startRestartableRedis(port);
  }, CONTAINER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await container?.stop();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  return {
    get url() {
      if (!container) throw new Error('Redis is not started yet');
      return `redis://127.0.0.1:${port}`;
    },
    get container() {
      if (!container) throw new Error('Redis is not started yet');
      return container;
    },
  };
}
