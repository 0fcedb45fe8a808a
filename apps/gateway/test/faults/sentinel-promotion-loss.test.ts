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
import { expectPositionsUnique } from '../support/reset-checks';

/**
 * A Sentinel promotion of a replica that lacks the old master's last writes, while it holds
 * every node's mark (copied a moment earlier): the marks show nothing, so only the change of
 * master can tell the nodes. Slow lease rounds (NODE_TTL_MS 8 s: a check-in every 2 s) leave
 * the window wide open for a node that has no reason of its own to check in.
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

describe('a Sentinel promotion that lost the last writes', () => {
  it('counts as a loss: a node that never followed the room takes no position delivered before', async () => {
    group = await startSentinelGroup();
    const env = { ...ENV, REDIS_SENTINELS: group.sentinelsEnv };
    gateways = await Promise.all(['p0', 'p1'].map((id) => spawnGateway({ ...env, NODE_ID: id })));
    const [n0, n1] = gateways;
    if (n0 === undefined || n1 === undefined) throw new Error('no gateways');
    // p0 follows #lobby and delivers 1-5 to dave; p1 (bob) is elsewhere.
    const alice = await connected(n0.url, 'alice', 'lobby');
    const dave = await connected(n0.url, 'dave', 'lobby');
    const bob = await connected(n1.url, 'bob', 'attic');
    for (let i = 1; i <= 5; i++) expect((await sent(alice, `a${i}`)).seq).toBe(i);
    await eventually(() => expect(texts(dave)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']));

    // The replica missed the last two appends (replication is asynchronous): undone on it
    // alone, which a replica allows once writable; the marks it holds stay current.
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
    // p0, the only node that could raise #lobby back, is frozen across the promotion; p1
    // comes back first and must not hand out a position before p0 has.
    n0.kill('SIGSTOP');
    try {
      const promoted = group.promoted();
      await group.master.crash();
      expect(await promoted).toMatchObject({ toPort: group.replica.port });
      await eventually(async () => expect((await fetch(`${n1.url}/readyz`)).status).toBe(200));
      await eventually(async () => {
        expect((await bob.request('join', { room: 'lobby' })).ok).toBe(true);
      });
    } finally {
      setTimeout(() => n0.kill('SIGCONT'), 500);
    }
    const b1 = await sent(bob, 'b1');
    expect(b1.seq).toBeGreaterThan(5);
    await eventually(() => expect(texts(dave)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1']));
    const lobby = (client: TestClient) => client.messages.filter((m) => m.room === 'lobby');
    expectPositionsUnique([lobby(alice), lobby(dave), lobby(bob)]);
    expect(n1.logs.join('\n')).toMatch(/redis master changed/);
  }, 120_000);
});
