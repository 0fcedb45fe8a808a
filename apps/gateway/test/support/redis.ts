import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { Bus, RoomStorage } from '../../src/broker/bus';
import { createBroker, type Broker } from '../../src/broker/create-broker';
import { createLogger } from '../../src/logger';
import { freePort } from './process';
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

/** A Redis for the enclosing suite: started before its tests, stopped after them. */
export function useRedis(): { readonly url: string } {
  let container: StartedRedisContainer | undefined;
  beforeAll(async () => {
    container = await startRedis();
  });
  afterAll(async () => {
    await container?.stop();
  });
  return {
    get url() {
      if (!container) throw new Error('Redis is not started yet');
      return container.getConnectionUrl();
    },
  };
}

/** Like useRedis, with a Redis that can be restarted, paused or shut down (fixed port, AOF). */
export function useRestartableRedis(): {
  readonly url: string;
  readonly container: StartedTestContainer;
} {
  let container: StartedTestContainer | undefined;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    container = await startRestartableRedis(port);
  });
  afterAll(async () => {
    await container?.stop();
  });
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get container() {
      if (!container) throw new Error('Redis is not started yet');
      return container;
    },
  };
}

/** The Redis broker (bus and state on one backend) at `url`, once connected and subscribed. */
export async function openRedisBroker(
  url: string,
  prefix: string,
  storage: Partial<RoomStorage> = {},
): Promise<Broker> {
  const broker = createBroker(
    { redisUrl: url, redisPrefix: prefix, historyLimit: 100, commandTimeoutMs: 2_000, ...storage },
    createLogger('test', 'silent'),
  );
  await new Promise<void>((resolve) =>
    broker.bus.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve }),
  );
  return broker;
}

/** A Redis bus on `url`, resolved once connected and subscribed. */
export async function openRedisBus(
  url: string,
  prefix: string,
  storage: Partial<RoomStorage> = {},
): Promise<Bus> {
  return (await openRedisBroker(url, prefix, storage)).bus;
}
