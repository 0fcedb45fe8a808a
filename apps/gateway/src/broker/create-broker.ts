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
import { redisTarget, type RedisTargetConfig } from './redis/redis-target';

/** A node's view of the broker: the message bus and the shared state, on one backend. */
export interface Broker {
  bus: Bus;
  state: ClusterState;
}

type BrokerConfig = Pick<GatewayConfig, 'redisPrefix' | 'historyLimit' | 'commandTimeoutMs'> &
  RedisTargetConfig &
  Partial<RoomStorage>;

/**
 * The embedded broker without REDIS_URL or REDIS_SENTINELS (one node), else one Redis (a server,
 * or the master of a Sentinel group); connecting starts now.
 */
export function createBroker(config: BrokerConfig, logger: Logger): Broker {
  const storage: RoomStorage = {
    maxRoomBytes: config.maxRoomBytes ?? DEFAULT_ROOM_STORAGE.maxRoomBytes,
    roomTtlMs: config.roomTtlMs ?? DEFAULT_ROOM_STORAGE.roomTtlMs,
    maxRooms: config.maxRooms ?? DEFAULT_ROOM_STORAGE.maxRooms,
  };
  const target = redisTarget(config);
  if (target === undefined) {
    const broker = new MemoryBroker(config.historyLimit, Date.now, storage);
    return { bus: new MemoryBus(broker), state: new MemoryState(broker) };
  }
  const redisLogger = logger.child({ component: 'redis' });
  const redis = new RedisBackend({
    target,
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
