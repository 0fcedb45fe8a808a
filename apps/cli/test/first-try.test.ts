import { chatError, type Ack } from '@chat/protocol';
import { describe, expect, it } from 'vitest';
import { FirstTry } from '../src/first-try';

const refused = (code: 'UNAVAILABLE' | 'OUTCOME_UNKNOWN'): Ack<object> => ({
  ok: false,
  error: chatError(code),
});
const lost = (): Promise<Ack<object>> => Promise.reject(new Error('operation has timed out'));

describe('the generation a retried send carries', () => {
  it('is none on a first attempt, then the one known when an attempt may have been stored', async () => {
    const first = new FirstTry();
    expect(first.field()).toEqual({});
    await expect(first.attempt('g1', lost)).rejects.toThrow();
    expect(first.field()).toEqual({ generation: 'g1' });
    // Later attempts, in later generations, keep the first one's.
    await first.attempt('g2', async () => refused('OUTCOME_UNKNOWN'));
    await first.attempt('g2', async () => refused('UNAVAILABLE'));
    expect(first.field()).toEqual({ generation: 'g1' });
  });

  it('does not count attempts answered with a refusal that stored nothing', async () => {
    const first = new FirstTry();
    await first.attempt('g1', async () => refused('UNAVAILABLE'));
    expect(first.field()).toEqual({});
    await first.attempt('g2', async () => refused('OUTCOME_UNKNOWN'));
    expect(first.field()).toEqual({ generation: 'g2' });
  });

  it('is none while the gateway names no generation (an older gateway)', async () => {
    const first = new FirstTry();
    await expect(first.attempt(undefined, lost)).rejects.toThrow();
    expect(first.field()).toEqual({});
  });
});
