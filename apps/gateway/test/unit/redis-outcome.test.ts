import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisOutcome } from '../../src/broker/redis/outcome';

describe('redisOutcome', () => {
  it('calls a command never written, or refused by Redis, not-run', () => {
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    expect(redisOutcome(offline)).toBe('not-run');
    const refused: unknown = new ReplyError('OOM command not allowed');
    expect(redisOutcome(refused)).toBe('not-run');
  });

  it("calls a cluster client's refusals not-run: no slot map yet, or only redirections", () => {
    const noMap = new Error("Cluster isn't ready and enableOfflineQueue options is false");
    expect(redisOutcome(noMap)).toBe('not-run');
    const redirected = new Error(
      'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
    );
    expect(redisOutcome(redirected)).toBe('not-run');
  });

  it('calls a timeout, a lost connection or anything unrecognised unknown', () => {
    expect(redisOutcome(new Error('Command timed out'))).toBe('unknown');
    expect(redisOutcome(new Error('Connection is closed.'))).toBe('unknown');
    expect(redisOutcome(new Error('Reached the max retries per request limit (which is 0)'))).toBe(
      'unknown',
    );
    expect(redisOutcome('odd')).toBe('unknown');
  });
});
