import { afterAll, afterEach } from 'vitest';
import { spawnGateway, stopProcesses, type GatewayProcess } from './gateway-process';
import { CONTAINER_HOOK_TIMEOUT_MS, useRedis } from './redis-hooks';

export interface GatewayClusterOptions {
  /** Env for every gateway of the suite, under what each `start` adds. @default {} */
  env?: Record<string, string>;
  /**
   * When the suite's gateways are killed: after each test (each test builds its own cluster),
   * or once after the whole suite (the tests share the gateways). Redis always lives as long
   * as the suite. @default 'each'
   */
  cleanup?: 'each' | 'all';
}

/** One Redis and the gateway processes a suite starts on it. */
export interface GatewayCluster {
  /** The suite's Redis; every gateway started here gets it as REDIS_URL. */
  readonly redisUrl: string;
  /** The gateways started and not yet cleaned up, in the order they were asked for. */
  readonly processes: readonly GatewayProcess[];
  /** Starts one gateway named `nodeId`; resolves once it is ready. */
  start(nodeId: string, env?: Record<string, string>): Promise<GatewayProcess>;
  /** Starts one gateway per id, all at once; resolves, in `nodeIds` order, once all are ready. */
  startMany(nodeIds: readonly string[], env?: Record<string, string>): Promise<GatewayProcess[]>;
}

/**
 * The set-up several suites share: a Redis in Docker for the suite plus real gateway processes
 * on it, killed (SIGKILL, so cleanup never waits for a drain) when `cleanup` says. A test that
 * wants a graceful stop calls `stop()` itself. Call it where `useRedis` could be called: at the
 * top of a file or `describe`.
 */
export function useGatewayCluster(options: GatewayClusterOptions = {}): GatewayCluster {
  const redis = useRedis();
  const processes: GatewayProcess[] = [];
  const cleanUp = () => stopProcesses(processes.splice(0));
  // Registered after useRedis's hooks, so (hooks run as a stack) gateways go before their Redis.
  if (options.cleanup !== 'all') afterEach(cleanUp, CONTAINER_HOOK_TIMEOUT_MS);
  afterAll(cleanUp, CONTAINER_HOOK_TIMEOUT_MS);

  const spawn = (nodeId: string, env: Record<string, string> = {}) =>
    spawnGateway({ ...options.env, ...env, REDIS_URL: redis.url, NODE_ID: nodeId });
  return {
    get redisUrl() {
      return redis.url;
    },
    processes,
    async start(nodeId, env) {
      const gateway = await spawn(nodeId, env);
      processes.push(gateway);
      return gateway;
    },
    async startMany(nodeIds, env) {
      const results = await Promise.allSettled(nodeIds.map((id) => spawn(id, env)));
      // Those that did start are tracked even when another failed, so cleanup still gets them.
      const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      processes.push(...started);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return started;
    },
  };
}
