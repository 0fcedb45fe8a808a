import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './free-port';
import { startRedis, startRestartableRedis } from './redis';
import { startRedisCluster, type RedisClusterGroup } from './redis-cluster';

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
  const container = useStarted(startRedis);
  return {
    get url() {
      return container().getConnectionUrl();
    },
  };
}

/** Like useRedis, with a Redis that keeps its port and data across `container.restart()`. */
export function useRestartableRedis(): RestartableSuiteRedis {
  let port = 0;
  const container = useStarted(async () => {
    port = await freePort();
    return startRestartableRedis(port);
  });
  return {
    get url() {
      container();
      return `redis://127.0.0.1:${port}`;
    },
    get container() {
      return container();
    },
  };
}

/**
 * A Redis Cluster (3 masters, 3 replicas, redis-server processes) for the enclosing suite:
 * formed before its tests, ended after them. Tests keep their keys apart with prefixes.
 */
export function useRedisCluster(): () => RedisClusterGroup {
  return useStarted(async () => {
    const cluster = await startRedisCluster();
    return { ...cluster, stop: () => cluster.close() };
  });
}

/**
 * Runs `start` before the suite's tests and stops what it started after them; the returned
 * getter fails loudly when read before the suite's `beforeAll` has run.
 */
function useStarted<T extends { stop(): Promise<unknown> }>(start: () => Promise<T>): () => T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await started?.stop();
  }, CONTAINER_HOOK_TIMEOUT_MS);
  return () => {
    if (!started) throw new Error('Redis is not started yet');
    return started;
  };
}
