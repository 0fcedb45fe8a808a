import { vi } from 'vitest';
import type { TestClient } from './client';
import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryBus } from '../../src/broker/memory/memory-bus';
import { MemoryDms } from '../../src/broker/memory/memory-dms';
import { createBroker } from '../../src/broker/create-broker';
import { loadConfig, type GatewayConfig } from '../../src/config';
import { createGateway, type Gateway } from '../../src/gateway';
import { createLogger } from '../../src/logger';
import { MemoryState } from '../../src/broker/memory/memory-state';
import type { RedisWhere } from './redis';

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  nodeId: string;
}

/** Test defaults: quiet, fast leases, no grace (unless a test asks), generous rate and join limits. */
export function testConfig(overrides: Record<string, string> = {}): GatewayConfig {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LEAVE_GRACE_MS: '0',
    RATE_PER_SEC: '100000',
    RATE_BURST: '100000',
    ANON_RATE_PER_IP: '100000',
    ANON_BURST_PER_IP: '100000',
    JOIN_RATE_PER_SEC: '100000',
    JOIN_BURST: '100000',
    REPLAY_RATE_PER_IP: '100000',
    REPLAY_BURST_PER_IP: '100000',
    ...overrides,
  });
}

async function start(
  config: GatewayConfig,
  backend: Pick<Parameters<typeof createGateway>[0], 'bus' | 'state' | 'dms'>,
) {
  const logger = createLogger(config.nodeId, config.logLevel);
  const gateway = createGateway({ config, logger, ...backend });
  const port = await gateway.listen();
  return { gateway, url: `http://127.0.0.1:${port}`, nodeId: config.nodeId };
}

/** Several gateways in this process sharing one in-memory broker: a cluster without Redis. */
export async function memoryCluster(
  count: number,
  overrides: Record<string, string> = {},
): Promise<RunningGateway[]> {
  const broker = new MemoryBroker();
  const { dmHistoryLimit, roomTtlMs, presenceQuietAbove } = testConfig(overrides);
  const state = new MemoryState(broker, Date.now, presenceQuietAbove);
  const dms = new MemoryDms(broker, { limit: dmHistoryLimit, ttlMs: roomTtlMs });
  const nodes: RunningGateway[] = [];
  for (let i = 0; i < count; i++) {
    const config = testConfig({ NODE_ID: `mem-${i}`, ...overrides });
    nodes.push(await start(config, { bus: new MemoryBus(broker), state, dms }));
  }
  return nodes;
}

/**
 * One gateway on the Redis (or Redis Cluster) at `where`; a fresh prefix per cluster keeps tests
 * apart. Resolves once it is ready, or once it listens with `ready: false`.
 */
export async function redisGateway(
  where: RedisWhere,
  overrides: Record<string, string> = {},
  { ready = true }: { ready?: boolean } = {},
): Promise<RunningGateway> {
  const target: Record<string, string> =
    typeof where === 'string' ? { REDIS_URL: where } : { REDIS_CLUSTER: where.cluster };
  const config = testConfig({ ...target, ...overrides });
  const logger = createLogger(config.nodeId, config.logLevel);
  const running = await start(config, createBroker(config, logger));
  if (ready) await waitReady(running.gateway);
  return running;
}

export async function redisCluster(
  where: RedisWhere,
  count: number,
  overrides: Record<string, string> = {},
): Promise<RunningGateway[]> {
  const prefix = `t${Math.random().toString(36).slice(2, 8)}`;
  const nodes: RunningGateway[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push(
      await redisGateway(where, {
        NODE_ID: `${prefix}-n${i}`,
        REDIS_PREFIX: prefix,
        ...overrides,
      }),
    );
  }
  return nodes;
}

/** Resolves when the gateway reports ready (bus up and its canary seen). */
export function waitReady(gateway: Gateway, timeout = 15_000): Promise<void> {
  return vi.waitFor(
    () => {
      const report = gateway.readiness.report();
      if (!report.ready) throw new Error(`gateway is not ready: ${report.reason ?? ''}`);
    },
    { timeout, interval: 25 },
  );
}

/**
 * What every suite does after each test: close its clients, then stop its gateways, emptying
 * both lists for the next test.
 */
export async function closeAll(clients: TestClient[], nodes: RunningGateway[]): Promise<void> {
  for (const client of clients.splice(0)) client.close();
  await stopAll(nodes.splice(0));
}

export async function stopAll(nodes: RunningGateway[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.gateway.close()));
}

/** `list[index]`, failing the test if it is missing. */
export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new Error(`no item at ${index}`);
  return item;
}
