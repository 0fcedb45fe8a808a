import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RedisOutage, redisAddress } from '../../src/broker/redis/outage';

function logged(): { lines: Record<string, unknown>[]; sink: Writable } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, sink };
}

describe('RedisOutage', () => {
  it('warns when Redis cannot be reached, reminds at most every 10 s, and says when it is back', () => {
    const { lines, sink } = logged();
    const start = Date.now();
    const outage = new RedisOutage('redis.internal:6380', pino({ level: 'info' }, sink));
    for (let s = 0; s < 25; s++) outage.failed('connect ECONNREFUSED', start + s * 1_000);
    expect(outage.describe()).toMatch(
      /^redis unreachable since .+ \(redis\.internal:6380: connect ECONNREFUSED\)$/,
    );
    outage.up(start + 25_000);
    expect(outage.describe()).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([
      'redis unreachable',
      'redis unreachable',
      'redis unreachable',
      'redis connected',
    ]);
    expect(lines[0]).toMatchObject({ redis: 'redis.internal:6380', err: 'connect ECONNREFUSED' });
  });

  it('names Redis by host and port only, never its password', () => {
    expect(redisAddress('redis://user:secret@10.0.0.5:7000/2')).toBe('10.0.0.5:7000');
    expect(redisAddress('rediss://:secret@cache.example')).toBe('cache.example:6379');
  });
});
