import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LuaScript } from '../../src/broker/redis/scripts/lua-script';

const script = new LuaScript({
  name: 'demo',
  keys: ['counter', 'log'],
  argv: ['room', 'limit'],
  body: 'return {counter, log, room, limit}',
  parse: (reply) => reply as string[],
});

/** A stand-in for ioredis that records EVALSHA calls (and can pretend the cache was flushed). */
function fakeRedis(flushed = false) {
  const calls: { command: string; args: unknown[] }[] = [];
  const redis = {
    evalsha: async (...args: unknown[]) => {
      calls.push({ command: 'evalsha', args });
      if (flushed) throw new Error('NOSCRIPT No matching script.');
      return args.slice(2);
    },
    eval: async (...args: unknown[]) => {
      calls.push({ command: 'eval', args });
      return args.slice(2);
    },
  };
  return { redis: redis as unknown as Redis, calls };
}

describe('LuaScript', () => {
  it('opens the source with a named local for every KEYS and ARGV position', () => {
    expect(script.source.split('\n').slice(0, 5)).toEqual([
      '-- demo',
      'local counter = KEYS[1]',
      'local log = KEYS[2]',
      'local room = ARGV[1]',
      'local limit = ARGV[2]',
    ]);
  });

  it('passes named keys and arguments in the declared order, whatever the object order', async () => {
    const { redis, calls } = fakeRedis();
    const reply = await script.run(redis, {
      argv: { limit: 10, room: 'lobby' },
      keys: { log: 'p:log:lobby', counter: 'p:seq:lobby' },
    });
    expect(calls[0]?.args.slice(1)).toEqual([2, 'p:seq:lobby', 'p:log:lobby', 'lobby', 10]);
    expect(reply).toEqual(['p:seq:lobby', 'p:log:lobby', 'lobby', 10]);
  });

  it('falls back to EVAL with the full source when the script cache was flushed', async () => {
    const { redis, calls } = fakeRedis(true);
    await script.run(redis, {
      keys: { counter: 'c', log: 'l' },
      argv: { room: 'r', limit: 1 },
    });
    expect(calls.map((c) => c.command)).toEqual(['evalsha', 'eval']);
    expect(calls[1]?.args[0]).toBe(script.source);
  });
});
