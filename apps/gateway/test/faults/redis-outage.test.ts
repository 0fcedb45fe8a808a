import { adminClient, useRestartableRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { closeAll, at, redisCluster, type RunningGateway } from '../support/cluster';

const redis = useRestartableRedis();
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

async function open(node: number, name: string): Promise<TestClient> {
  const client = await connect(at(nodes, node).url, { name });
  clients.push(client);
  return client;
}

const readyz = async (node: RunningGateway) => (await fetch(`${node.url}/readyz`)).status;

describe('Redis goes away', () => {
  it('answers sends with a retryable error while Redis is down, and flows again within 5 s of its return', async () => {
    nodes = await redisCluster(redis.url, 2);
    const alice = await open(0, 'alice');
    const bob = await open(1, 'bob');
    const admin = adminClient(redis.url);
    await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    admin.disconnect();

    await eventually(async () => expect(await readyz(at(nodes, 0))).toBe(503));
    const started = Date.now();
    const during = await Promise.all(
      Array.from({ length: 50 }, (_, i) => alice.request('send', { text: `during ${i}` })),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(
      during.every((ack) => !ack.ok && ack.error.code === 'UNAVAILABLE' && ack.error.retryable),
    ).toBe(true);
    expect((await fetch(`${at(nodes, 0).url}/healthz`)).status).toBe(200);

    await redis.container.restart();
    const back = Date.now();
    await eventually(async () => {
      const ack = await alice.request('send', { text: 'after return', cid: 'after' });
      expect(ack.ok).toBe(true);
    }, 5_000);
    await eventually(() => expect(texts(bob)).toEqual(['after return']), 5_000);
    expect(Date.now() - back).toBeLessThan(5_000);
    await eventually(async () => expect(await readyz(at(nodes, 1))).toBe(200), 5_000);
  });

  it('survives Redis pausing (DEBUG SLEEP): unready meanwhile, then everything flows', async () => {
    nodes = await redisCluster(redis.url, 2, { COMMAND_TIMEOUT_MS: '500' });
    const alice = await open(0, 'alice');
    const bob = await open(1, 'bob');
    const admin = adminClient(redis.url);
    const sleeping = admin.call('DEBUG', 'SLEEP', '3');
    await eventually(async () => expect(await readyz(at(nodes, 0))).toBe(503));
    const ack = await alice.request('send', { text: 'while paused', cid: 'p1' });
    // Written to a paused Redis: it may run on waking, so the answer is "outcome unknown".
    if (!ack.ok) expect(ack.error).toMatchObject({ code: 'OUTCOME_UNKNOWN', retryable: true });
    await sleeping;
    admin.disconnect();
    await eventually(async () => {
      const retry = await alice.request('send', { text: 'while paused', cid: 'p1' });
      expect(retry.ok).toBe(true);
    });
    await alice.send('after pause');
    await eventually(() => expect(texts(bob)).toEqual(['while paused', 'after pause']));
    await eventually(async () => expect(await readyz(at(nodes, 0))).toBe(200));
  });
});
