import { useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisNames } from '../../src/broker/redis/names';
import { connect, type TestClient } from '../support/client';
import { closeAll, redisGateway, type RunningGateway } from '../support/cluster';
import { recordRoundTrips } from '../support/round-trips';

const redis = useRedis();
const nodes: RunningGateway[] = [];
const clients: TestClient[] = [];
const recorders: { stop(): void }[] = [];

afterEach(async () => {
  for (const recorder of recorders.splice(0)) recorder.stop();
  await closeAll(clients, nodes);
});

/** What a node does on its own while clients connect: lease rounds and readiness canaries. */
const BACKGROUND = new Set(['check-in', 'share-resume-keys', 'heartbeat', 'expired-nodes']);

/**
 * One gateway on its own prefix, and `record`, which starts counting the round trips of what
 * its clients do from then on (the node's own lease rounds and canaries left out).
 */
async function gateway() {
  const prefix = `t${Math.random().toString(36).slice(2, 8)}`;
  const nodeId = `${prefix}-n0`;
  const node = await redisGateway(redis.url, { NODE_ID: nodeId, REDIS_PREFIX: prefix });
  nodes.push(node);
  const names = new RedisNames(prefix);
  const own = [names.writeProbe(nodeId), names.channel({ kind: 'node', nodeId })];
  const record = () => {
    const recorder = recordRoundTrips(
      ({ name, args }) => !BACKGROUND.has(name) && !args.some((arg) => own.includes(arg)),
    );
    recorders.push(recorder);
    return recorder;
  };
  const join = async (options: Parameters<typeof connect>[1]) => {
    const client = await connect(node.url, options);
    clients.push(client);
    return client;
  };
  return { join, record };
}

// A connect's Redis calls one after the other are what made 64 connects at a time live ~170 ms
// each on one node (BENCHMARKS.md, "S6 memory"): this pins how many there are, so a change
// that adds one is seen here, not in a benchmark.
describe("a connect's round trips to one Redis", () => {
  it('are four for a new user joining a room its node follows: id, session, set-up, join', async () => {
    const { join, record } = await gateway();
    // The room's first member subscribes the node to it; the connect measured is the second.
    await join({ room: 'hall' });
    const recorder = record();
    const client = await join({ room: 'hall' });
    expect(client.synced).toEqual([{ room: 'hall', seq: 0, replayed: 0, lost: 0 }]);
    expect(recorder.rounds()).toEqual([
      ['next-user-id'],
      ['open-session'],
      // The DM topic, the resume record, the name's DM holder.
      ['set', 'set', 'subscribe'],
      // The membership change, the log's head, the user's DM conversations.
      ['enter-room', 'range', 'zrevrangebyscore'],
    ]);
  });

  it('are six for a resume: record, session, set-up, join, history page, take-over check', async () => {
    const { join, record } = await gateway();
    const watcher = await join({ room: 'hall' });
    const first = await join({ room: 'hall' });
    first.close();
    // Its close is over (the `left` goes out in its last step): none of it is counted below.
    await vi.waitFor(() => expect(watcher.left.map((l) => l.user)).toEqual([first.welcome.user]));
    const recorder = record();
    const again = await join({ room: 'hall', resume: first.welcome.resumeToken, since: 0 });
    expect(again.welcome.user).toEqual(first.welcome.user);
    expect(recorder.rounds()).toEqual([
      ['get'],
      ['open-session'],
      ['set', 'set', 'subscribe'],
      // A resume names its position: no probe with the membership change.
      ['enter-room', 'zrevrangebyscore'],
      ['range-page'],
      // The connection the token last stood for is closed (here: already gone).
      ['hget'],
    ]);
  });
});
