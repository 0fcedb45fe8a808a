import { useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisNames } from '../../src/broker/redis/names';
import { connect, type TestClient } from '../support/client';
import { closeAll, redisGateway, type RunningGateway } from '../support/cluster';
import { recordRoundTrips, type Recorded } from '../support/round-trips';

const redis = useRedis();
const nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

/** What a node does on its own while clients connect: lease rounds and readiness canaries. */
const BACKGROUND = new Set(['check-in', 'share-resume-keys', 'heartbeat', 'expired-nodes']);

// A connect's Redis calls one after the other are what made 64 connects at a time live ~170 ms
// each on one node (BENCHMARKS.md, "S6 memory"): this pins how many there are, so a change
// that adds one is seen here, not in a benchmark.
describe("a connect's round trips to one Redis", () => {
  it('are four for a new user joining a room its node follows: id, session, set-up, join', async () => {
    const prefix = `t${Math.random().toString(36).slice(2, 8)}`;
    const nodeId = `${prefix}-n0`;
    nodes.push(await redisGateway(redis.url, { NODE_ID: nodeId, REDIS_PREFIX: prefix }));
    const node = nodes[0];
    if (!node) throw new Error('no gateway');
    // The room's first member subscribes the node to it; the connect measured is the second.
    clients.push(await connect(node.url, { room: 'hall' }));
    const names = new RedisNames(prefix);
    const own = [names.writeProbe(nodeId), names.channel({ kind: 'node', nodeId })];
    const recorder = recordRoundTrips(
      ({ name, args }: Recorded) => !BACKGROUND.has(name) && !args.some((arg) => own.includes(arg)),
    );
    try {
      const client = await connect(node.url, { room: 'hall' });
      clients.push(client);
      expect(client.synced).toEqual([{ room: 'hall', seq: 0, replayed: 0, lost: 0 }]);
      expect(recorder.rounds()).toEqual([
        ['next-user-id'],
        ['open-session'],
        // The DM topic, the resume record, the name's DM holder.
        ['set', 'set', 'subscribe'],
        // The membership change, the log's head, the user's DM conversations.
        ['enter-room', 'range', 'zrevrangebyscore'],
      ]);
    } finally {
      recorder.stop();
    }
  });
});
