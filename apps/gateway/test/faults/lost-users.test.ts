import type { Ack } from '@chat/protocol';
import { adminClient, useRedis } from '@chat/test-support';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, type TestClient } from '../support/client';
import { at, closeAll, redisCluster, redisGateway, type RunningGateway } from '../support/cluster';

/**
 * Users and private messages after Redis lost its data (FLUSHALL), with slow lease rounds
 * (NODE_TTL_MS 8 s: a check-in every 2 s): a gateway started after the loss gives no user an id
 * a client kept from before, and a DM to a user who is still connected is not answered
 * USER_NOT_FOUND (final) before that user's node has written the name back.
 */
const ENV = { NODE_TTL_MS: '8000' };

const redis = useRedis();
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];
let admin: Redis | undefined;

afterEach(async () => {
  admin?.disconnect();
  admin = undefined;
  await closeAll(clients.splice(0), nodes);
  nodes = [];
});

/** A user's connection, retried while the cluster refuses it (UNAVAILABLE: nothing stored). */
async function connectRetrying(url: string, name: string, resume?: string): Promise<TestClient> {
  let client: TestClient | undefined;
  await eventually(async () => {
    client = await connect(url, { name, ...(resume === undefined ? {} : { resume }) });
  }, 15_000);
  if (client === undefined) throw new Error(`${name} never connected`);
  clients.push(client);
  return client;
}

/** A DM retried while refused with a retryable error, as the CLI does; every answer, in order. */
async function dmRetrying(from: TestClient, to: string, text: string): Promise<Ack<object>[]> {
  const answers: Ack<object>[] = [];
  await eventually(async () => {
    const answer = await from.request('dm', { to, text, cid: `cid-${text}` });
    answers.push(answer);
    expect(answer.ok || !answer.error.retryable).toBe(true);
  }, 30_000);
  return answers;
}

const dmTexts = (client: TestClient) => client.dms.map((dm) => dm.text);

describe('users after Redis lost its data', () => {
  it('a gateway started after FLUSHALL, before any node that saw the data checks in, gives no one an id a client kept: a DM reaches its recipient only', async () => {
    const prefix = `t${Math.random().toString(36).slice(2, 8)}`;
    // The old node checks in every 10 s: the loss stays unfound there until its next round or
    // write, while a process started after it hands out ids.
    const old = await redisGateway(redis.url, {
      NODE_TTL_MS: '40000',
      NODE_ID: `${prefix}-old`,
      REDIS_PREFIX: prefix,
    });
    nodes.push(old);
    const alice = await connectRetrying(old.url, 'alice');
    const carol = await connectRetrying(old.url, 'carol');
    admin = adminClient(redis.url);
    await admin.flushall();
    // Its first check-in cannot tell anything was lost; it admits users before it is ready.
    const fresh = await redisGateway(
      redis.url,
      { ...ENV, NODE_ID: `${prefix}-new`, REDIS_PREFIX: prefix },
      { ready: false },
    );
    nodes.push(fresh);
    const bob = await connectRetrying(fresh.url, 'bob');

    // alice, still connected with her id, writes to carol, then to bob.
    await dmRetrying(alice, 'carol', 'for-carol');
    await eventually(() => expect(dmTexts(carol)).toEqual(['for-carol']));
    await dmRetrying(alice, 'bob', 'for-bob');
    await eventually(() => expect(dmTexts(bob)).toContain('for-bob'));
    // Sent first, on any channel bob could share with alice: only his own DM reached him.
    expect(dmTexts(bob)).toEqual(['for-bob']);
    expect([alice.welcome.user.id, carol.welcome.user.id]).not.toContain(bob.welcome.user.id);
  }, 60_000);

  it('a DM to a user still connected, sent at once after FLUSHALL, waits for the re-assertion instead of USER_NOT_FOUND', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    const alice = await connectRetrying(n0.url, 'alice');
    const bob = await connectRetrying(n1.url, 'bob');
    admin = adminClient(redis.url);
    await admin.flushall();

    // At once, before bob's node has checked in and written his name back.
    const answers = await dmRetrying(alice, 'bob', 'hello');
    const codes = answers.map((answer) => (answer.ok ? 'ok' : answer.error.code));
    expect(codes.at(-1)).toBe('ok');
    expect(new Set(codes.slice(0, -1))).toEqual(new Set(codes.length > 1 ? ['UNAVAILABLE'] : []));
    await eventually(() => expect(dmTexts(bob)).toEqual(['hello']));
    // Once the cluster has settled, a name nobody holds is final again.
    await eventually(async () => {
      expect(await alice.request('dm', { to: 'nobody', text: 'x' })).toMatchObject({
        ok: false,
        error: { code: 'USER_NOT_FOUND', retryable: false },
      });
    }, 15_000);
  }, 60_000);
});
