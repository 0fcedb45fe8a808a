import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('has real defaults: port 3000, embedded bus, a generated node id', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.redisUrl).toBeUndefined();
    expect(config.nodeId).toMatch(/^[A-Za-z0-9_.-]+-[0-9a-f]{6}$/);
    expect(config.logLevel).toBe('info');
    expect(config.historyOnJoin).toBe(50);
    expect(config.heapGrowingPercent).toBe(0);
  });

  it("reads V8's heap growing percentage and refuses one that is not a whole number", () => {
    expect(loadConfig({ HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent).toBe(30);
    expect(() => loadConfig({ HEAP_GROWING_PERCENT: '1.5' })).toThrow(
      /^invalid HEAP_GROWING_PERCENT=/,
    );
  });

  it('reads every setting', () => {
    const config = loadConfig({
      PORT: '4000',
      REDIS_URL: 'redis://r:6379/1',
      NODE_ID: 'gw-1',
      LOG_LEVEL: 'debug',
      HISTORY_LIMIT: '200',
      HISTORY_ON_JOIN: '20',
    });
    expect(config).toMatchObject({
      port: 4000,
      redisUrl: 'redis://r:6379/1',
      nodeId: 'gw-1',
      logLevel: 'debug',
      historyLimit: 200,
      historyOnJoin: 20,
    });
  });

  it('reads a Sentinel group: addresses, master name (default mymaster), passwords', () => {
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379, 10.0.0.2:26380,[::1]:26381' })).toMatchObject({
      redisUrl: undefined,
      redisSentinels: [
        { host: 's1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      redisSentinelMaster: 'mymaster',
      redisPassword: undefined,
      redisSentinelPassword: undefined,
    });
    expect(
      loadConfig({
        REDIS_SENTINELS: 's1:26379',
        REDIS_SENTINEL_MASTER: 'chat-main',
        REDIS_PASSWORD: 'p1',
        REDIS_SENTINEL_PASSWORD: 'p2',
      }),
    ).toMatchObject({
      redisSentinelMaster: 'chat-main',
      redisPassword: 'p1',
      redisSentinelPassword: 'p2',
    });
  });

  it('says REDIS_SENTINELS and REDIS_URL exclude each other', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's1:26379' })).toThrow(
      'invalid REDIS_SENTINELS="s1:26379": expected unset when REDIS_URL is set (use one)',
    );
  });

  it('reads a Redis Cluster: its seed nodes', () => {
    expect(loadConfig({ REDIS_CLUSTER: 'r1:6379, 10.0.0.2:7000' })).toMatchObject({
      redisUrl: undefined,
      redisSentinels: undefined,
      redisCluster: [
        { host: 'r1', port: 6379 },
        { host: '10.0.0.2', port: 7000 },
      ],
    });
  });

  it.each([
    ['REDIS_URL', 'redis://r:6379'],
    ['REDIS_SENTINELS', 's1:26379'],
  ])('says REDIS_CLUSTER and %s exclude each other', (other, value) => {
    expect(() => loadConfig({ REDIS_CLUSTER: 'r1:6379', [other]: value })).toThrow(
      `invalid REDIS_CLUSTER="r1:6379": expected unset when ${other} is set (use one)`,
    );
  });

  it.each([
    [{ REDIS_CLUSTER: 'r1' }, 'REDIS_CLUSTER'],
    [{ REDIS_CLUSTER: 'redis://r1:6379' }, 'REDIS_CLUSTER'],
    [{ REDIS_CLUSTER: 'r1:6379,,r2:6379' }, 'REDIS_CLUSTER'],
    [{ REDIS_SENTINELS: 's1' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379,' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:0' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:70000' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'redis://s1:26379' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:1', REDIS_SENTINEL_MASTER: 'a b' }, 'REDIS_SENTINEL_MASTER'],
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: '3000.5' }, 'PORT'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ NODE_ID: 'has space' }, 'NODE_ID'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ HISTORY_ON_JOIN: '2000' }, 'HISTORY_ON_JOIN'],
    [{ RATE_PER_SEC: '0' }, 'RATE_PER_SEC'],
    [{ DRAIN_DELAY_MS: '10000' }, 'DRAIN_DELAY_MS'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
    [{ AUTH_SECRET: 'x'.repeat(20), AUTH_JWKS_URL: 'http://k' }, 'AUTH_JWKS_URL'],
    [{ AUTH_JWKS_URL: 'ftp://k' }, 'AUTH_JWKS_URL'],
    [{ MAX_BUFFERED_KB: '1' }, 'MAX_BUFFERED_KB'],
  ])('refuses %j naming %s', (env, setting) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid ${setting}=`));
  });
});
