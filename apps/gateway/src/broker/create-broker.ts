import type { GatewayConfig } from '../config';
import type { Logger } from '../logger';
import { DEFAULT_ROOM_STORAGE, type Bus, type RoomStorage } from './bus';
import type { ClusterState } from './cluster-state';
import { DM_ACTIVE_MS, type DmStore } from './dm-store';
import { MemoryDms } from './memory/memory-dms';
import { RedisDms } from './redis/redis-dms';
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
  /** Private conversations, on the same backend. */
  dms: DmStore;
}

type BrokerConfig = Pick<
  GatewayConfig,
  'redisPrefix' | 'historyLimit' | 'commandTimeoutMs' | 'dmHistoryLimit'
> &
  Partial<Pick<GatewayConfig, 'presenceQuietAbove' | 'databaseUrl'>> &
  RedisTargetConfig &
  Partial<RoomStorage>;

/**
 * The embedded broker without REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER (one node), else one
 * Redis (a server, or the master of a Sentinel group) or a Redis Cluster; connecting starts now.
 */
export function createBroker(config: BrokerConfig, logger: Logger): Broker {
  const storage: RoomStorage = {
    maxRoomBytes: config.maxRoomBytes ?? DEFAULT_ROOM_STORAGE.maxRoomBytes,
    roomTtlMs: config.roomTtlMs ?? DEFAULT_ROOM_STORAGE.roomTtlMs,
    maxRooms: config.maxRooms ?? DEFAULT_ROOM_STORAGE.maxRooms,
  };
  // Conversations expire like room logs: ROOM_TTL_S after their last message.
  // With an archive, conversations are also indexed by activity for its recovery sweep.
  const dmStorage = {
    limit: config.dmHistoryLimit,
    ttlMs: storage.roomTtlMs,
    activeMs: config.databaseUrl === undefined ? 0 : DM_ACTIVE_MS,
  };
  const target = redisTarget(config);
  if (target === undefined) {
    const broker = new MemoryBroker(config.historyLimit, Date.now, storage);
    const dms = new MemoryDms(broker, dmStorage);
    return {
      bus: new MemoryBus(broker),
      state: new MemoryState(broker, Date.now, config.presenceQuietAbove),
      dms,
    };
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
  return {
    bus,
    state: new RedisState(redis, config.presenceQuietAbove),
    dms: new RedisDms(redis, dmStorage),
  };
}
