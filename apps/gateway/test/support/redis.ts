import type { Bus, RoomStorage } from '../../src/broker/bus';
import { createBroker, type Broker } from '../../src/broker/create-broker';
import { createLogger } from '../../src/logger';
import type { SentinelAddress } from '../../src/config';

/** A Redis URL, or a Redis Cluster's seed nodes (`{ cluster: 'host:port,...' }`). */
export type RedisWhere = string | { cluster: string };

/** The broker's target settings for `where`. */
export function redisWhere(where: RedisWhere): {
  redisUrl: string | undefined;
  redisCluster?: SentinelAddress[];
} {
  if (typeof where === 'string') return { redisUrl: where };
  const redisCluster = where.cluster.split(',').map((seed) => {
    const [host = '', port = ''] = seed.split(':');
    return { host, port: Number(port) };
  });
  return { redisUrl: undefined, redisCluster };
}

/** A DATABASE_URL for brokers that behave as with an archive (nothing connects to it). */
export const ARCHIVE_URL = 'postgres://archive@127.0.0.1:1/unused';

/**
 * The Redis broker (bus and state on one backend) at `where`, once connected and subscribed.
 */
export async function openRedisBroker(
  where: RedisWhere,
  prefix: string,
  storage: Partial<RoomStorage> & {
    dmHistoryLimit?: number;
    presenceQuietAbove?: number;
    databaseUrl?: string;
  } = {},
): Promise<Broker> {
  const broker = createBroker(
    {
      ...redisWhere(where),
      redisPrefix: prefix,
      historyLimit: 100,
      dmHistoryLimit: 100,
      commandTimeoutMs: 2_000,
      ...storage,
    },
    createLogger('test', 'silent'),
  );
  await new Promise<void>((resolve) =>
    broker.bus.setHandler({ envelope: () => undefined, down: () => undefined, resumed: resolve }),
  );
  return broker;
}

/** A Redis bus at `where`, resolved once connected and subscribed. */
export async function openRedisBus(
  where: RedisWhere,
  prefix: string,
  storage: Partial<RoomStorage> = {},
): Promise<Bus> {
  return (await openRedisBroker(where, prefix, storage)).bus;
}
