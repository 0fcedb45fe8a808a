import { Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig, SentinelAddress } from '../../config';
import { redisAddress } from './outage';

/**
 * Where a node's Redis is: one server at a URL, or the master of a Sentinel group, which the
 * node asks the sentinels for on every (re)connect and follows after a fail-over.
 */
export type RedisTarget =
  | { kind: 'url'; url: string; password?: string | undefined }
  | {
      kind: 'sentinel';
      sentinels: readonly SentinelAddress[];
      /** The master group name the sentinels watch. @default 'mymaster' */
      master: string;
      /** Password of the Redis servers (master and replicas). @default unset */
      password?: string | undefined;
      /** Password of the sentinels. @default unset */
      sentinelPassword?: string | undefined;
    }
  | {
      kind: 'cluster';
      /** Seed nodes: the client learns every master and replica from them. */
      seeds: readonly SentinelAddress[];
      /** Password of every cluster node. @default unset */
      password?: string | undefined;
    };

export type RedisTargetConfig = Pick<GatewayConfig, 'redisUrl'> &
  Partial<
    Pick<
      GatewayConfig,
      | 'redisSentinels'
      | 'redisSentinelMaster'
      | 'redisPassword'
      | 'redisSentinelPassword'
      | 'redisCluster'
    >
  >;

/** The Redis target of a configuration; undefined means the embedded broker (no Redis). */
export function redisTarget(config: RedisTargetConfig): RedisTarget | undefined {
  if (config.redisCluster !== undefined) {
    return { kind: 'cluster', seeds: config.redisCluster, password: config.redisPassword };
  }
  if (config.redisSentinels !== undefined) {
    return {
      kind: 'sentinel',
      sentinels: config.redisSentinels,
      master: config.redisSentinelMaster ?? 'mymaster',
      password: config.redisPassword,
      sentinelPassword: config.redisSentinelPassword,
    };
  }
  if (config.redisUrl === undefined) return undefined;
  return { kind: 'url', url: config.redisUrl, password: config.redisPassword };
}

/** The target in words for logs and /readyz, never with a password. */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'url') return redisAddress(target.url);
  if (target.kind === 'cluster') {
    return `cluster via ${target.seeds.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  }
  const sentinels = target.sentinels.map(({ host, port }) => `${host}:${port}`).join(',');
  return `master ${target.master} via sentinels ${sentinels}`;
}

/** Sentinel mode only: all sentinels unreachable, ask them again after this. @default 50-1_000 ms */
const sentinelRetry = (attempt: number): number => Math.min(50 * attempt, 1_000);

/**
 * A (lazy) ioredis client for the target with the backend's connection policy on top.
 *
 * Behind Sentinel: `role: 'master'` makes ioredis check, on every connect, that the server it
 * reached is a master (a demoted master that came back is left at once); `failoverDetector`
 * subscribes to the sentinels' `+switch-master` and drops the connection the moment a replica
 * is promoted, instead of waiting for the dead master's socket to time out; `reconnectOnError`
 * leaves a server that answers READONLY (a master demoted under us) and asks the sentinels
 * again. It returns 1, not 2: the refused command is not re-sent (nothing is queued here, and
 * the caller has already been told the command failed).
 */
export function openRedis(
  target: Exclude<RedisTarget, { kind: 'cluster' }>,
  policy: RedisOptions,
): Redis {
  if (target.kind === 'url') {
    // ioredis gives the URL's own fields precedence over these options (a password in the URL).
    return new Redis(target.url, { ...policy, password: target.password });
  }
  return new Redis({
    ...policy,
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.master,
    role: 'master',
    password: target.password,
    sentinelPassword: target.sentinelPassword,
    failoverDetector: true,
    sentinelRetryStrategy: sentinelRetry,
    sentinelCommandTimeout: policy.connectTimeout,
    reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 1 : false),
  });
}
