import { adminClient, useGatewayCluster, useRestartableRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { at, redisCluster, stopAll, type RunningGateway } from '../support/cluster';
import { ResumingClient } from '../support/resuming-client';

/**
 * Sends like the CLI's pipe mode: one at a time, retrying retryable errors with the same cid.
 * Resolves to the error codes met on the way.
 */
async function sendAll(
  client: TestClient,
  texts: string[],
  onSent?: (i: number) => Promise<void>,
): Promise<string[]> {
  const errors: string[] = [];
  for (const [i, text] of texts.entries()) {
    for (let attempt = 0; ; attempt++) {
      const ack = await client.request('send', { text, cid: `c${i}` }).catch(() => undefined);
      if (ack?.ok) break;
      errors.push(ack ? ack.error.code : 'timeout');
      if (ack && !ack.error.retryable) throw new Error(ack.error.code);
      if (attempt > 200) throw new Error(`could not send ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await onSent?.(i);
  }
  return errors;
}

describe('resume when a gateway is killed', () => {
  const gateways = useGatewayCluster();
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it('a client whose node is SIGKILLed resumes on another and gets every message once, in order', async () => {
    const env = {
      REDIS_PREFIX: 'kill1',
      LEAVE_GRACE_MS: '3000',
    };
    const started = await gateways.startMany(['g1', 'g2', 'g3'], env);
    const [g1, g2, g3] = [at(started, 0), at(started, 1), at(started, 2)];
    const receiver = new ResumingClient([g1.url, g2.url, g3.url], 'receiver');
    closers.push(() => receiver.close());
    await receiver.start();
    expect(receiver.node).toBe('g1');
    const sender = await connect(g2.url, { name: 'sender' });
    closers.push(() => sender.close());
    const watcher = await connect(g3.url, { name: 'watcher' });
    closers.push(() => watcher.close());

    const sent = Array.from({ length: 60 }, (_, i) => `m${i}`);
    await sendAll(sender, sent, async (i) => {
      if (i === 20) {
        g1.kill('SIGKILL');
        await g1.exited;
      }
    });
    await eventually(
      () => expect(texts({ messages: receiver.messages } as TestClient)).toEqual(sent),
      20_000,
    );
    expect(receiver.node).not.toBe('g1');
    // Resumed within the grace window: the others never saw the receiver leave or rejoin.
    expect(watcher.lines.filter((l) => l.startsWith('receiver'))).toEqual([]);
    // The resumed session took over from the one on the dead node, so a quit is announced at
    // once, not when the dead node's lease runs out.
    receiver.close();
    await eventually(
      () =>
        expect(watcher.left.map((n) => [n.user.name, n.reason])).toEqual([['receiver', 'quit']]),
      3_000,
    );
  });
});

describe('Redis restarted or connections dropped while messages are sent', () => {
  const redis = useRestartableRedis();
  let nodes: RunningGateway[] = [];
  const clients: TestClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await stopAll(nodes);
  });

  it('nodes repair what their members missed after their subscriptions drop', async () => {
    nodes = await redisCluster(redis.url, 3);
    const sender = await connect(at(nodes, 0).url, { name: 'sender' });
    const receivers = [
      await connect(at(nodes, 1).url, { name: 'r1' }),
      await connect(at(nodes, 2).url, { name: 'r2' }),
    ];
    clients.push(sender, ...receivers);
    const admin = adminClient(redis.url);
    const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
    try {
      await sendAll(sender, sent, async (i) => {
        if (i === 10 || i === 25) await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      });
    } finally {
      admin.disconnect();
    }
    for (const receiver of receivers) {
      await eventually(() => expect(texts(receiver)).toEqual(sent), 20_000);
    }
  });

  it('delivery resumes after a Redis restart with every message exactly once, in order', async () => {
    nodes = await redisCluster(redis.url, 3);
    const sender = await connect(at(nodes, 0).url, { name: 'sender' });
    const receivers = [
      await connect(at(nodes, 1).url, { name: 'r1' }),
      await connect(at(nodes, 2).url, { name: 'r2' }),
    ];
    clients.push(sender, ...receivers);
    const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
    let restarted: Promise<void> | undefined;
    const errors = await sendAll(sender, sent, async (i) => {
      if (i !== 15) return;
      // Restart without waiting for it; once the sender's node sees Redis gone, the following
      // sends meet the outage and are retried until it is back.
      restarted = redis.container.restart();
      await eventually(() =>
        expect(at(nodes, 0).gateway.readiness.report().checks.bus).toBe(false),
      );
    });
    await restarted;
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors)).toEqual(new Set(['UNAVAILABLE']));
    for (const receiver of receivers) {
      await eventually(() => expect(texts(receiver)).toEqual(sent), 30_000);
    }
  });
});
