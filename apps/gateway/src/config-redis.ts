import { ConfigError, optional, type Env } from './config-values';

/** One sentinel of REDIS_SENTINELS, or one seed node of REDIS_CLUSTER. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** Where the nodes find Redis (see README's Configuration). */
export interface RedisSettings {
  /**
   * One Redis for every node (REDIS_URL). Unset, and without REDIS_SENTINELS: the embedded
   * in-memory bus (a single node). @default unset
   */
  redisUrl: string | undefined;
  /**
   * Redis behind Sentinel (REDIS_SENTINELS=host:port,...): nodes ask these sentinels for the
   * master and follow it when a replica is promoted. Exclusive with REDIS_URL. @default unset
   */
  redisSentinels: readonly SentinelAddress[] | undefined;
  /**
   * A Redis Cluster (REDIS_CLUSTER=host:port,...): seed nodes; the nodes learn the rest of the
   * cluster from them. Exclusive with REDIS_URL and REDIS_SENTINELS. @default unset
   */
  redisCluster: readonly SentinelAddress[] | undefined;
  /** The master group the sentinels watch (REDIS_SENTINEL_MASTER). @default 'mymaster' */
  redisSentinelMaster: string;
  /** Password of the Redis servers; a password in REDIS_URL takes precedence. @default unset */
  redisPassword: string | undefined;
  /** Password of the sentinels themselves (REDIS_SENTINEL_PASSWORD). @default unset */
  redisSentinelPassword: string | undefined;
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL', raw, 'a URL like redis://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', raw, 'a redis:// or rediss:// URL');
  }
  return raw;
}

/**
 * `host:port,host:port,...` of the variable `name`; a host may be a name, an IPv4 or a
 * bracketed IPv6 address. `example` shows one entry in the error.
 */
function addresses(env: Env, name: string, example: string): SentinelAddress[] | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  return raw.split(',').map((entry) => {
    const match = /^\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65_535) {
      throw new ConfigError(name, raw, `host:port[,host:port...] (e.g. ${example})`);
    }
    return { host: match[1], port };
  });
}

/** The Redis targets exclude each other: a second one set is a start-up error naming both. */
function exclusive(env: Env, name: string, others: readonly string[]): void {
  const raw = env[name] ?? '';
  for (const other of others) {
    if (env[other]) {
      throw new ConfigError(name, raw, `unset when ${other} is set (use one)`);
    }
  }
}

export function redisSettings(env: Env): RedisSettings {
  const redisSentinelMaster = env.REDIS_SENTINEL_MASTER || 'mymaster';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(redisSentinelMaster)) {
    throw new ConfigError(
      'REDIS_SENTINEL_MASTER',
      redisSentinelMaster,
      "1-64 of letters, digits, '_', '.', '-'",
    );
  }
  const redisSentinels = addresses(env, 'REDIS_SENTINELS', 's1:26379');
  if (redisSentinels) exclusive(env, 'REDIS_SENTINELS', ['REDIS_URL']);
  const redisCluster = addresses(env, 'REDIS_CLUSTER', 'r1:6379');
  if (redisCluster) exclusive(env, 'REDIS_CLUSTER', ['REDIS_URL', 'REDIS_SENTINELS']);
  return {
    redisUrl: redisUrl(env),
    redisSentinels,
    redisCluster,
    redisSentinelMaster,
    redisPassword: optional(env, 'REDIS_PASSWORD'),
    redisSentinelPassword: optional(env, 'REDIS_SENTINEL_PASSWORD'),
  };
}
