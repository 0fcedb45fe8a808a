import type { GatewayConfig } from '../config';
import type { Logger } from '../logger';
import { DEFAULT_ROOM_STORAGE, type Bus, type RoomStorage } from './bus';
import type { ClusterState } from './cluster-state';
import { MemoryBroker } from './memory/memory-broker';
import { MemoryBus } from './memory/memory-bus';
import { MemoryState } from './memory/memory-state';
import { RedisBackend } from './redis/redis-backend';
import { RedisBus } from './redis/redis-bus';
import { RedisState } from './redis/redis-state';

/** A node's view of the broker: the message bus and the shared state, on one backend. */
export interface Broker {
  bus: Bus;
  state: ClusterState;
}

type BrokerConfig = Pick<
  GatewayConfig,
  'redisUrl' | 'redisPrefix' | 'historyLimit' | 'commandTimeoutMs'
> &
  Partial<RoomStorage>;

/** The embedded broker without REDIS_URL (one node), else one Redis; connecting starts now. */
export function createBroker(config: BrokerConfig, logger: Logger): Broker {
  const storage: RoomStorage = {
    maxRoomBytes: config.maxRoomBytes ?? DEFAULT_ROOM_STORAGE.maxRoomBytes,
    roomTtlMs: config.roomTtlMs ?? DEFAULT_ROOM_STORAGE.roomTtlMs,
    maxRooms: config.maxRooms ?? DEFAULT_ROOM_STORAGE.maxRooms,
  };
  if (config.redisUrl === undefined) {
    const broker = new MemoryBroker(config.historyLimit, Date.now, storage);
    return { bus: new MemoryBus(broker), state: new MemoryState(broker) };
  }
  const redisLogger = logger.child({ component: 'redis' });
  const redis = new RedisBackend({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    commandTimeoutMs: config.commandTimeoutMs,
    logger: redisLogger,
  });
  const bus = new RedisBus(redis, {
    historyLimit: config.historyLimit,
    ...storage,
    logger: redisLogger,
  });
  redis.connect();
  return { bus, state: new RedisState(redis) };
}
