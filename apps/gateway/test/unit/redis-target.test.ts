import { describe, expect, it } from 'vitest';
import { describeTarget, openRedis, redisTarget } from '../../src/broker/redis/redis-target';

describe('redisTarget', () => {
  it('is the embedded broker without REDIS_URL or REDIS_SENTINELS', () => {
    expect(redisTarget({ redisUrl: undefined })).toBeUndefined();
  });

  it('is one server for REDIS_URL, and says where without the password', () => {
    const target = redisTarget({ redisUrl: 'redis://:pw@r1:6380/0', redisPassword: 'other' });
    expect(target).toEqual({ kind: 'url', url: 'redis://:pw@r1:6380/0', password: 'other' });
    expect(target && describeTarget(target)).toBe('r1:6380');
  });

  it('is the master of a Sentinel group for REDIS_SENTINELS, with both passwords', () => {
    const target = redisTarget({
      redisUrl: undefined,
      redisSentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      redisSentinelMaster: 'chat',
      redisPassword: 'data-pw',
      redisSentinelPassword: 'sentinel-pw',
    });
    expect(target).toMatchObject({ kind: 'sentinel', master: 'chat', password: 'data-pw' });
    expect(target && describeTarget(target)).toBe('master chat via sentinels s1:26379,s2:26380');
  });

  it('asks ioredis to follow the master: role check, +switch-master, READONLY reconnects', () => {
    const target = redisTarget({ redisUrl: undefined, redisSentinels: [{ host: 's1', port: 1 }] });
    if (target?.kind !== 'sentinel') throw new Error('no sentinel target');
    const redis = openRedis(target, { lazyConnect: true, connectTimeout: 500 });
    const { options } = redis;
    expect(options).toMatchObject({
      sentinels: [{ host: 's1', port: 1 }],
      name: 'mymaster',
      role: 'master',
      failoverDetector: true,
      sentinelCommandTimeout: 500,
    });
    expect(options.reconnectOnError?.(new Error('READONLY You cannot write'))).toBe(1);
    expect(options.reconnectOnError?.(new Error('OOM command not allowed'))).toBe(false);
    redis.disconnect();
  });
});
