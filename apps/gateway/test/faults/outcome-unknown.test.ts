import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { closeAll, at, redisCluster, type RunningGateway } from '../support/cluster';
import { adminClient, useRestartableRedis } from '@chat/test-support';

const redis = useRestartableRedis();
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];
const admins: Redis[] = [];

afterEach(async () => {
  for (const admin of admins.splice(0)) admin.disconnect();
  await closeAll(clients, nodes);
});

async function open(node: number, name: string): Promise<TestClient> {
  const client = await connect(at(nodes, node).url, { name });
  clients.push(client);
  return client;
}

function admin(): Redis {
  const client = adminClient(redis.url);
  admins.push(client);
  return client;
}

/** Resolves once Redis has stopped answering: a probe's PING times out. */
async function unresponsive(): Promise<void> {
  const probe = new Redis(redis.url, { commandTimeout: 100, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  admins.push(probe);
  await eventually(async () => {
    await expect(probe.ping()).rejects.toThrow(/timed out/);
  });
}

describe('a write whose outcome is unknown is not reported as "nothing was stored"', () => {
  it('answers a send that Redis runs after a pause (DEBUG SLEEP) with OUTCOME_UNKNOWN, and a retry with the same cid is stored once', async () => {
    nodes = await redisCluster(redis.url, 2, { COMMAND_TIMEOUT_MS: '300' });
    const alice = await open(0, 'alice');
    const bob = await open(1, 'bob');
    // Long enough for both sends to time out while it sleeps, even on a loaded machine.
    const sleeping = admin().call('DEBUG', 'SLEEP', '4');
    await unresponsive();

    const withoutCid = await alice.request('send', { text: 'no cid' });
    const withCid = await alice.request('send', { text: 'with cid', cid: 'c1' });
    for (const ack of [withoutCid, withCid]) {
      // Before: UNAVAILABLE ("nothing was stored"), yet Redis stored it on waking.
      expect(ack).toMatchObject({ ok: false, error: { code: 'OUTCOME_UNKNOWN', retryable: true } });
    }
    if (!withCid.ok) expect(withCid.error.message).toContain('same cid');
    await sleeping;

    const retry = await alice.request('send', { text: 'with cid', cid: 'c1' });
    expect(retry.ok).toBe(true);
    await alice.send('after');
    // Both writes ran when Redis woke, as the answers said they might; the retry stored nothing.
    await eventually(() => expect(texts(bob)).toEqual(['no cid', 'with cid', 'after']));
  });

  it('answers a DM that Redis runs late with OUTCOME_UNKNOWN; a retry with the same cid is delivered once', async () => {
    nodes = await redisCluster(redis.url, 2, { COMMAND_TIMEOUT_MS: '300' });
    const alice = await open(0, 'alice');
    const bob = await open(1, 'bob');
    // Writes (the DM's publish) wait; reads (finding bob) are still answered.
    await admin().call('CLIENT', 'PAUSE', '1500', 'WRITE');

    const dm = await alice.request('dm', { to: 'bob', text: 'psst', cid: 'd1' });
    expect(dm).toMatchObject({ ok: false, error: { code: 'OUTCOME_UNKNOWN', retryable: true } });
    await eventually(() => expect(bob.dms.map((m) => m.text)).toEqual(['psst']));

    const retry = await alice.request('dm', { to: 'bob', text: 'psst', cid: 'd1' });
    expect(retry.ok).toBe(true);
    await alice.request('dm', { to: 'bob', text: 'after', cid: 'd2' });
    await eventually(() => expect(bob.dms.map((m) => m.text)).toEqual(['psst', 'after']));
  });
});
