import { chatError } from '@chat/protocol';
import { describe, expect, it } from 'vitest';
import { Outbox, type Attempt, type Job } from '../src/outbox';

describe('a send answered OUTCOME_UNKNOWN', () => {
  it('is resent with the same payload (so the same cid) until acked, and settles once', async () => {
    const outbox = new Outbox<string>({ backoff: { initialMs: 1, maxMs: 2 } });
    const payload = { text: 'hi', cid: 'abc-1' };
    const sent: (typeof payload)[] = [];
    const answers: Attempt[] = [
      { kind: 'refused', error: chatError('OUTCOME_UNKNOWN') },
      { kind: 'refused', error: chatError('OUTCOME_UNKNOWN') },
      { kind: 'done' },
    ];
    const failed: string[] = [];
    const send: Job<string> = {
      async attempt() {
        sent.push(payload);
        return answers.shift() ?? { kind: 'done' };
      },
      fail: (error) => failed.push(error.code),
    };
    outbox.online('gateway');
    outbox.push(send);
    await outbox.idle();
    expect(sent.map((p) => p.cid)).toEqual(['abc-1', 'abc-1', 'abc-1']);
    expect(failed).toEqual([]);
  });
});
