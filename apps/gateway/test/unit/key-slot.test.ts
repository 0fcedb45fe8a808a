import { describe, expect, it } from 'vitest';
import { keySlot } from '../../src/broker/redis/key-slot';
import { RedisNames } from '../../src/broker/redis/names';

describe('keySlot', () => {
  it('computes the slots Redis Cluster does (values from CLUSTER KEYSLOT)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
  });

  it('puts every key of a room in the slot of its channel, and the state in one slot', () => {
    const names = new RedisNames('chat', true);
    const channel = keySlot(names.channel({ kind: 'room', room: 'lobby' }));
    for (const key of [
      names.roomSeq('lobby'),
      names.roomLog('lobby'),
      names.roomEpoch('lobby'),
      names.roomLogBytes('lobby'),
      names.sendCid('lobby', 7, 'c1'),
    ]) {
      expect(keySlot(key)).toBe(channel);
    }
    const state = keySlot(names.userCounter());
    for (const key of [
      names.name('alice'),
      names.nodeSessions('n1'),
      names.roomUsers('lobby'),
      names.roomsOnline(),
      names.nodeLeases(),
      names.clusterEpoch(),
    ]) {
      expect(keySlot(key)).toBe(state);
    }
    expect(keySlot(names.dmCid('1-2', 1, 'c'))).toBe(keySlot(names.dmLog('1-2')));
  });

  it('keeps the names of one Redis as they were (no hash tags)', () => {
    const names = new RedisNames('chat');
    expect(names.roomSeq('lobby')).toBe('chat:seq:lobby');
    expect(names.sendCid('lobby', 7, 'c1')).toBe('chat:cid:7:c1');
    expect(names.nodeSessions('n1')).toBe('chat:node:n1');
  });
});
