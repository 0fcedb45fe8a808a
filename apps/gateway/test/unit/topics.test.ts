import { describe, expect, it } from 'vitest';
import { channelName, parseChannel, type Topic } from '../../src/broker/topics';

describe('channel names', () => {
  const topics: Topic[] = [
    { kind: 'room', room: 'lobby' },
    { kind: 'room', room: 'a-b_c9' },
    { kind: 'user', userId: 42 },
    { kind: 'node', nodeId: 'host-1.a_b' },
  ];

  it.each(topics)('round-trips %j', (topic) => {
    expect(parseChannel('chat', channelName('chat', topic))).toEqual(topic);
  });

  it('uses fixed delimiters so no room channel is a prefix of another', () => {
    expect(channelName('chat', { kind: 'room', room: 'lobby' })).toBe('chat#room#lobby#');
    const a = channelName('chat', { kind: 'room', room: 'lobby' });
    const b = channelName('chat', { kind: 'room', room: 'lobby2' });
    expect(b.startsWith(a)).toBe(false);
  });

  it.each([
    'chat#room#lobby',
    'other#room#lobby#',
    'chat#room##',
    'chat#user#0#',
    'chat#user#01#',
    'chat#user#x#',
    'chat#node#bad id#',
    'chat#what#x#',
    'chat#room#a#b#',
  ])('rejects %s', (channel) => {
    expect(parseChannel('chat', channel)).toBeUndefined();
  });

  it('keeps prefixes apart', () => {
    const channel = channelName('one', { kind: 'room', room: 'lobby' });
    expect(parseChannel('two', channel)).toBeUndefined();
  });
});
