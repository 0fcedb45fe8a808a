import { describe, expect, it } from 'vitest';
import {
  decodeEnvelope,
  decodeStoredMessage,
  encodeEnvelope,
  encodeStoredMessage,
  type Envelope,
  type MessageDraft,
} from '../../src/broker/envelope';

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
      seq: 1,
      conversation: '1-2',
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

  describe('stored messages (`<seq> <draft json>`)', () => {
    const draft: MessageDraft = {
      v: 1,
      type: 'message',
      origin: 'n1',
      id: 'n1.x.2',
      room: 'lobby',
      from: user,
      sid: 's',
      text: '7 {"seq":1}',
      ts: 5,
    };

    it('carry the seq beside the draft, which is left as the node wrote it', () => {
      const frame = encodeStoredMessage(42, encodeEnvelope(draft));
      expect(frame).toBe(`42 ${encodeEnvelope(draft)}`);
      expect(decodeEnvelope(frame)).toEqual({ ...draft, seq: 42 });
    });

    it('take the seq from the log entry over any seq inside older JSON', () => {
      const older = encodeEnvelope({ ...draft, seq: 9 });
      expect(decodeStoredMessage(9, older)).toEqual({ ...draft, seq: 9 });
    });

    it.each([
      [
        'a frame around a notice',
        `3 ${encodeEnvelope({ v: 1, type: 'canary', origin: 'n', nonce: 'x' })}`,
      ],
      ['a frame without JSON', '3 hello'],
      ['a frame with a negative seq', `-3 ${JSON.stringify(draft)}`],
      ['a frame with a fractional seq', `3.5 ${JSON.stringify(draft)}`],
    ])('drop %s', (_what, payload) => {
      expect(decodeEnvelope(payload)).toBeUndefined();
    });
  });
});
