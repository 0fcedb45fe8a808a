import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../src/bus/envelope';

const user = { id: 1, name: 'alice' };

describe('envelopes', () => {
  const envelopes: Envelope[] = [
    {
      v: 1,
      type: 'message',
      origin: 'n1',
      seq: 3,
      id: 'n1.x.1',
      room: 'lobby',
      from: user,
      sid: 's',
      text: 'hi \u001b[2J',
      ts: 1,
    },
    { v: 1, type: 'joined', origin: 'n1', room: 'lobby', user },
    { v: 1, type: 'left', origin: 'n1', room: 'lobby', user, reason: 'node-failure' },
    {
      v: 1,
      type: 'dm',
      origin: 'n1',
      id: 'd',
      from: user,
      to: { id: 2, name: 'bob' },
      sid: 's',
      text: 'psst',
      ts: 2,
    },
    { v: 1, type: 'canary', origin: 'n1', nonce: 'abc' },
  ];

  it.each(envelopes)('round-trips $type', (envelope) => {
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it.each([
    'not json',
    '[]',
    'null',
    '{"v":2,"type":"canary","origin":"n","nonce":"x"}',
    '{"v":1,"type":"nope","origin":"n"}',
    '{"v":1,"type":"message","origin":"n","seq":-1,"id":"i","room":"r","from":{"id":1,"name":"a"},"sid":"s","text":"t","ts":1}',
    '{"v":1,"type":"left","origin":"n","room":"r","user":{"id":1,"name":"a"},"reason":"bored"}',
    '{"v":1,"type":"joined","origin":"n","room":"r","user":{"id":"1","name":"a"}}',
  ])('drops %s', (payload) => {
    expect(decodeEnvelope(payload)).toBeUndefined();
  });
});
