import { useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterSuite } from '../cluster/cluster-suite';
import { connect, eventually, refused, texts, type TestClient } from '../support/client';
import { at, redisCluster, stopAll, type RunningGateway } from '../support/cluster';

const redis = useRedis();

clusterSuite('a real Redis', () => redisCluster(redis.url, 3));
clusterSuite('a real Redis', () => redisCluster(redis.url, 3), { batch: true });

describe('three gateways on one Redis', () => {
  let nodes: RunningGateway[] = [];
  const clients: TestClient[] = [];
  const open = async (node: number, name: string) => {
    const client = await connect(at(nodes, node).url, { name });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await stopAll(nodes);
  });

  it('delivers 1,000 messages from one sender in order to every other node, exactly once', async () => {
    nodes = await redisCluster(redis.url, 3);
    const sender = await open(0, 'sender');
    const onB = await open(1, 'onB');
    const onC = await open(2, 'onC');
    const alsoOnA = await open(0, 'alsoOnA');
    const sent = Array.from({ length: 1000 }, (_, i) => `message ${i}`);
    const acks = [];
    // Pipelined in windows of 100, well within the per-connection in-flight bound.
    for (let i = 0; i < sent.length; i += 100) {
      acks.push(...(await Promise.all(sent.slice(i, i + 100).map((text) => sender.send(text)))));
    }
    expect(acks.map((a) => a.seq)).toEqual(acks.map((_, i) => i + 1));
    for (const receiver of [onB, onC, alsoOnA]) {
      await eventually(() => expect(receiver.messages.length).toBeGreaterThanOrEqual(1000));
      expect(texts(receiver)).toEqual(sent);
      expect(new Set(receiver.messages.map((m) => m.id)).size).toBe(1000);
    }
    expect(sender.messages).toEqual([]);
  });

  it('refuses on node B a name taken on node A, and frees it cluster-wide when its user quits', async () => {
    nodes = await redisCluster(redis.url, 3);
    const alice = await open(0, 'alice');
    expect(await refused(at(nodes, 1).url, { name: 'alice' })).toMatchObject({
      code: 'NAME_TAKEN',
    });
    const watcher = await open(2, 'watcher');
    alice.close();
    await eventually(() => expect(watcher.lines).toContain('alice left'));
    const again = await open(1, 'alice');
    expect(again.welcome.node).toBe(at(nodes, 1).nodeId);
  });

  it('gives every connection on every node a distinct id from Redis', async () => {
    nodes = await redisCluster(redis.url, 3);
    const ids = [];
    for (let i = 0; i < 9; i++) ids.push((await open(i % 3, `u${i}`)).welcome.user.id);
    expect(new Set(ids).size).toBe(9);
  });
});
