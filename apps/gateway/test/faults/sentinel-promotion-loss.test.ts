import type { SendResult } from '@chat/protocol';
import {
  adminClient,
  spawnGateway,
  startSentinelGroup,
  stopProcesses,
  type GatewayProcess,
  type SentinelGroup,
} from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisNames } from '../../src/broker/redis/names';
import { connect, eventually, texts, type TestClient } from '../support/client';

/**
 * A Sentinel promotion of a replica that lacks the old master's last writes, while it holds
 * every node's mark (copied a moment earlier): the marks show nothing, so only the change of
 * master can tell the nodes. Slow lease rounds (NODE_TTL_MS 8 s: a check-in every 2 s) leave
 * the window wide open for a node that has no reason of its own to check in.
 *
 * A position is (epoch, seq): the promotion starts a new data generation, so the room's next
 * append starts a new epoch, whichever node makes it and whether or not a node that delivered
 * the lost positions is still alive to raise the room.
 */
const ENV = { NODE_TTL_MS: '8000', HISTORY_MEMORY_KB: '0' };

let group: SentinelGroup | undefined;
let gateways: GatewayProcess[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await stopProcesses(gateways);
  gateways = [];
  await group?.close();
  group = undefined;
});

async function connected(url: string, name: string, room: string): Promise<TestClient> {
  let client: TestClient | undefined;
  await eventually(async () => {
    client = await connect(url, { name, room });
  }, 15_000);
  if (client === undefined) throw new Error(`${name} never connected`);
  clients.push(client);
  return client;
}

/** A send retried with its cid while refused (as the CLI does); resolves to its ack. */
async function sent(client: TestClient, text: string): Promise<SendResult> {
  let acked: SendResult | undefined;
  await eventually(async () => {
    acked = await client.send(text, { cid: `cid-${text}` });
  }, 20_000);
  if (acked === undefined) throw new Error(`${text} never acked`);
  return acked;
}

/** The lobby's positions before the promotion, the node that gave them, and who saw them. */
interface Before {
  n0: GatewayProcess;
  n1: GatewayProcess;
  dave: TestClient;
  bob: TestClient;
  acked: SendResult[];
}

/**
 * p0 follows #lobby and gives a1-a5 (delivered to dave); p1 (bob) is elsewhere. Then the
 * replica loses a4 and a5 (replication is asynchronous: undone on it alone, which a replica
 * allows once writable; the marks it holds stay current), and the master is SIGKILLed while p0
 * gets `signal`, so the promoted replica is reached by p1 first.
 */
async function promotionThatLost(signal: 'SIGSTOP' | 'SIGKILL'): Promise<Before> {
  group = await startSentinelGroup();
  const env = { ...ENV, REDIS_SENTINELS: group.sentinelsEnv };
  gateways = await Promise.all(['p0', 'p1'].map((id) => spawnGateway({ ...env, NODE_ID: id })));
  const [n0, n1] = gateways;
  if (n0 === undefined || n1 === undefined) throw new Error('no gateways');
  const alice = await connected(n0.url, 'alice', 'lobby');
  const dave = await connected(n0.url, 'dave', 'lobby');
  const bob = await connected(n1.url, 'bob', 'attic');
  const acked: SendResult[] = [];
  for (let i = 1; i <= 5; i++) acked.push(await sent(alice, `a${i}`));
  expect(acked.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5]);
  await eventually(() => expect(texts(dave)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']));

  const names = new RedisNames('chat');
  const replica = adminClient(`redis://127.0.0.1:${group.replica.port}`);
  try {
    await replica.config('SET', 'replica-read-only', 'no');
    const log = names.roomLog('lobby');
    const kept = await replica.xrange(log, '-', '3-0');
    await replica.del(log); // a stream remembers its top id even once its entries are deleted
    for (const [id, fields] of kept) await replica.xadd(log, id, ...fields);
    await replica.set(names.roomSeq('lobby'), '3');
  } finally {
    replica.disconnect();
  }
  n0.kill(signal);
  try {
    const promoted = group.promoted();
    await group.master.crash();
    expect(await promoted).toMatchObject({ toPort: group.replica.port });
    await eventually(async () => expect((await fetch(`${n1.url}/readyz`)).status).toBe(200));
    await eventually(async () => {
      expect((await bob.request('join', { room: 'lobby' })).ok).toBe(true);
    });
  } finally {
    if (signal === 'SIGSTOP') setTimeout(() => n0.kill('SIGCONT'), 500);
  }
  return { n0, n1, dave, bob, acked };
}

/** (epoch, seq) of an ack, as its sender sees it. */
const position = (ack: SendResult) => `${ack.epoch ?? '?'}#${ack.seq}`;

describe('a Sentinel promotion that lost the last writes', () => {
  it('counts as a loss: a node that never followed the room takes no position delivered before', async () => {
    // p0, the only node that could raise #lobby back, is frozen across the promotion; p1
    // comes back first and must not hand out a position before p0 has.
    const { n1, dave, bob, acked } = await promotionThatLost('SIGSTOP');
    const b1 = await sent(bob, 'b1');
    expect(acked.map(position)).not.toContain(position(b1));
    // dave, on p0, is told of the new epoch before b1, the first message in it.
    await eventually(() => expect(texts(dave)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1']));
    expect(dave.synced.filter((s) => s.renewed).map((s) => s.epoch)).toContain(b1.epoch);
    expect(n1.logs.join('\n')).toMatch(/redis master changed/);
  }, 120_000);

  it('gives no lost position again when every node that knew it is gone', async () => {
    // p0 gave a4 and a5 and dies with the old master: nobody alive delivered them, so no node
    // can raise #lobby above them. Only the new epoch keeps b1 off alice's (epoch, 4).
    const { acked, bob } = await promotionThatLost('SIGKILL');
    const b1 = await sent(bob, 'b1');
    expect(b1.epoch).toBeDefined();
    expect(acked.map(position)).not.toContain(position(b1));
  }, 120_000);
});
