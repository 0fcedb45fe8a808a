import { chatError, type ChatError } from '@chat/protocol';
import { describe, expect, it, vi } from 'vitest';
import { Outbox, type Attempt, type Job } from '../src/outbox';

/** A link is just a name here; a job's attempts answer from a script, one entry per attempt. */
type Link = string;

interface Scripted extends Job<Link> {
  readonly name: string;
  readonly links: Link[];
  readonly failed: ChatError[];
  done: boolean;
}

function job(name: string, answers: Attempt[]): Scripted {
  const scripted: Scripted = {
    name,
    links: [],
    failed: [],
    done: false,
    async attempt(link) {
      scripted.links.push(link);
      const answer = answers.shift() ?? { kind: 'done' };
      if (answer.kind === 'done') scripted.done = true;
      return answer;
    },
    fail(error) {
      scripted.failed.push(error);
    },
  };
  return scripted;
}

const fast = { backoff: { initialMs: 1, maxMs: 2 } };
const lost = (disconnected: boolean): Attempt => ({ kind: 'lost', reason: 'gone', disconnected });
const refused = (code: Parameters<typeof chatError>[0]): Attempt => ({
  kind: 'refused',
  error: chatError(code),
});

describe('Outbox', () => {
  it('holds jobs until online, then sends them one at a time in order', async () => {
    const outbox = new Outbox<Link>(fast);
    const order: string[] = [];
    const jobs = ['a', 'b', 'c'].map((name) => {
      const j = job(name, []);
      const attempt = j.attempt.bind(j);
      j.attempt = async (link) => {
        order.push(`start ${name}`);
        const result = await attempt(link);
        order.push(`end ${name}`);
        return result;
      };
      return j;
    });
    jobs.forEach((j) => outbox.push(j));
    await Promise.resolve();
    expect(order).toEqual([]);
    outbox.online('n1');
    await outbox.idle();
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(outbox.size).toBe(0);
  });

  it('resends a job lost with its connection over the next link, before anything later', async () => {
    const outbox = new Outbox<Link>(fast);
    const first = job('first', [lost(true)]);
    const second = job('second', []);
    outbox.push(first);
    outbox.push(second);
    outbox.online('n1');
    await vi.waitFor(() => expect(first.links).toEqual(['n1']));
    outbox.offline();
    await Promise.resolve();
    expect(second.links).toEqual([]);
    outbox.online('n2');
    await outbox.idle();
    expect(first.links).toEqual(['n1', 'n2']);
    expect(second.links).toEqual(['n2']);
    expect([first.done, second.done]).toEqual([true, true]);
  });

  it('retries a retryable refusal after a backoff, keeping order', async () => {
    const outbox = new Outbox<Link>(fast);
    const limited = job('limited', [refused('RATE_LIMITED'), refused('UNAVAILABLE')]);
    const next = job('next', []);
    outbox.push(limited);
    outbox.push(next);
    outbox.online('n1');
    await outbox.idle();
    expect(limited.links).toEqual(['n1', 'n1', 'n1']);
    expect(limited.failed).toEqual([]);
    expect(next.links).toEqual(['n1']);
  });

  it('fails a job on a non-retryable refusal and goes on with the next', async () => {
    const outbox = new Outbox<Link>(fast);
    const bad = job('bad', [refused('TEXT_TOO_LONG')]);
    const next = job('next', []);
    outbox.push(bad);
    outbox.push(next);
    outbox.online('n1');
    await outbox.idle();
    expect(bad.failed).toEqual([chatError('TEXT_TOO_LONG')]);
    expect(bad.links).toEqual(['n1']);
    expect(next.done).toBe(true);
  });

  it('retries an ack timeout', async () => {
    const outbox = new Outbox<Link>(fast);
    const slow = job('slow', [lost(false)]);
    outbox.push(slow);
    outbox.online('n1');
    await outbox.idle();
    expect(slow.links).toEqual(['n1', 'n1']);
    expect(slow.done).toBe(true);
  });

  it('gives a job up once its acks have timed out for retryForMs', async () => {
    let now = 0;
    const outbox = new Outbox<Link>({ ...fast, retryForMs: 1_000, now: () => now });
    const slow = job(
      'slow',
      Array.from({ length: 100 }, () => lost(false)),
    );
    const attempt = slow.attempt.bind(slow);
    slow.attempt = (link) => {
      now += 400;
      return attempt(link);
    };
    outbox.push(slow);
    outbox.online('n1');
    await outbox.idle();
    expect(slow.links).toHaveLength(4); // timed out at 400, 800, 1200, 1600
    expect(slow.failed).toEqual([
      chatError('UNAVAILABLE', 'no confirmation from the gateway (gone)'),
    ]);
  });

  it('gives a job up once it has been refused for retryForMs', async () => {
    let now = 0;
    const outbox = new Outbox<Link>({ ...fast, retryForMs: 1_000, now: () => now });
    const stuck = job(
      'stuck',
      Array.from({ length: 100 }, () => refused('UNAVAILABLE')),
    );
    const attempt = stuck.attempt.bind(stuck);
    stuck.attempt = (link) => {
      now += 400;
      return attempt(link);
    };
    outbox.push(stuck);
    outbox.online('n1');
    await outbox.idle();
    expect(stuck.links).toHaveLength(4); // refused at 400, 800, 1200, 1600: 1200 ms after the first
    expect(stuck.failed).toEqual([chatError('UNAVAILABLE')]);
  });

  it('drops everything on close, without settling, and idles', async () => {
    const outbox = new Outbox<Link>(fast);
    const queued = job('queued', []);
    outbox.push(queued);
    const idle = outbox.idle();
    outbox.close();
    await idle;
    outbox.push(job('late', []));
    outbox.online('n1');
    await Promise.resolve();
    expect(queued.links).toEqual([]);
    expect(queued.failed).toEqual([]);
    expect(outbox.size).toBe(0);
  });
});
