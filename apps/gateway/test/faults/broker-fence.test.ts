import type { Ack, ChatMessage, HistoryResult, SendResult } from '@chat/protocol';
import { adminClient, useRedis } from '@chat/test-support';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, renewals, texts, type TestClient } from '../support/client';
import { at, closeAll, redisCluster, type RunningGateway } from '../support/cluster';
import { expectPositionsUnique, prefixOf } from '../support/reset-checks';

/**
 * The window between Redis losing its data and every node checking in (see BrokerFence): with
 * slow lease rounds (NODE_TTL_MS 8 s: a check-in every 2 s), a node that starts following a room
 * only after the loss, and a user who connects at once, must neither take a position another
 * node already delivered nor get an id someone holds.
 */
const ENV = { NODE_TTL_MS: '8000', HISTORY_MEMORY_KB: '0' };

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
async function connectRetrying(
  url: string,
  name: string,
  room: string,
  resume?: string,
): Promise<TestClient> {
  let client: TestClient | undefined;
  await eventually(async () => {
    client = await connect(url, { name, room, ...(resume === undefined ? {} : { resume }) });
  }, 15_000);
  if (client === undefined) throw new Error(`${name} never connected`);
  clients.push(client);
  return client;
}

/** A send retried with its cid while refused, as the CLI does; resolves to its ack. */
async function sendRetrying(client: TestClient, text: string): Promise<SendResult> {
  let acked: SendResult | undefined;
  await eventually(async () => {
    acked = await client.send(text, { cid: `cid-${text}` });
  }, 15_000);
  if (acked === undefined) throw new Error(`${text} never acked`);
  return acked;
}

/** carol comes back into `room` from position `since` of `epoch` and sends c1; its ack. */
async function carolResumesAndSends(
  url: string,
  room: string,
  since: number,
  epoch: string | undefined,
): Promise<SendResult> {
  let back: TestClient | undefined;
  await eventually(async () => {
    back = await connect(url, {
      name: 'carol',
      room,
      since,
      ...(epoch === undefined ? {} : { epoch }),
    });
  }, 15_000);
  if (back === undefined) throw new Error('carol never came back');
  clients.push(back);
  return sendRetrying(back, 'c1');
}

/** A request retried while refused with UNAVAILABLE (nothing stored); resolves to the answer. */
async function answered(client: TestClient, event: 'send' | 'dm', payload: object) {
  let ack: Ack<object> | undefined;
  await eventually(async () => {
    ack = await client.request(event, payload);
    expect(ack).not.toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  }, 15_000);
  return ack;
}

describe('writes right after Redis lost its data, before the nodes checked in', () => {
  it('a room followed only after FLUSHALL takes no delivered position, nothing is dropped, no user id is given twice', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    // alice's node follows #lobby and delivers positions 1-5 (to dave); bob's node does not.
    const alice = await connectRetrying(n0.url, 'alice', 'lobby');
    const dave = await connectRetrying(n0.url, 'dave', 'lobby');
    const bob = await connectRetrying(n1.url, 'bob', 'attic');
    const before: SendResult[] = [];
    for (let i = 1; i <= 5; i++) before.push(await sendRetrying(alice, `a${i}`));
    expect(before.map((ack) => ack.seq)).toEqual([1, 2, 3, 4, 5]);
    await eventually(() => expect(texts(dave)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']));
    const ids = [alice, bob, dave].map((client) => client.welcome.user.id);

    const wipedAt = Date.now();
    await admin.flushall();
    // At once, before any lease round: a new user, and bob joining #lobby and sending there.
    const carol = await connectRetrying(n1.url, 'carol', 'attic');
    const joined = await bob.request('join', { room: 'lobby' });
    expect(joined.ok).toBe(true);
    const sent = await sendRetrying(bob, 'b1');

    // The position is above every one delivered before, and #lobby's members are given it.
    expect(sent.seq).toBeGreaterThan(5);
    await eventually(() => expect(texts(alice)).toEqual(['b1']));
    await eventually(() => expect(texts(dave)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1']));
    const lobby = (client: TestClient): ChatMessage[] =>
      client.messages.filter((m) => m.room === 'lobby');
    expectPositionsUnique([lobby(alice), lobby(bob), lobby(dave)]);
    // No id held before the loss comes back: new ids start above the time of the loss.
    expect(ids).not.toContain(carol.welcome.user.id);
    expect(carol.welcome.user.id).toBeGreaterThan(wipedAt);
  }, 60_000);

  it('a send acked before FLUSHALL and retried after it with its cid is stored once', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    const alice = await connectRetrying(n0.url, 'alice', 'lobby');
    const dave = await connectRetrying(n1.url, 'dave', 'lobby');
    const first = await sendRetrying(alice, 'hello');
    await eventually(() => expect(texts(dave)).toEqual(['hello']));

    // Redis forgets the send's cid record; alice, whose ack was lost, retries it.
    await admin.flushall();
    const retried = await sendRetrying(alice, 'hello');
    expect(retried).toMatchObject({ id: first.id, seq: first.seq });
    await sendRetrying(alice, 'after');
    await eventually(() => expect(texts(dave)).toEqual(['hello', 'after']));
  }, 60_000);

  it('a send whose node died before its ack, retried after FLUSHALL through another node, is stored once, under the same user', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    const alice = await connectRetrying(n0.url, 'alice', 'lobby');
    const dave = await connectRetrying(n1.url, 'dave', 'lobby');
    const first = await sendRetrying(alice, 'hello');
    await eventually(() => expect(texts(dave)).toEqual(['hello']));
    // The retry id is the sender's business: nobody else is shown it.
    expect(dave.messages[0]).not.toHaveProperty('cid');

    // alice's node goes (its memory of the send with it), then Redis forgets everything: the
    // send's cid record and alice's resume record. alice comes back through the other node and
    // retries the send whose ack she never saw.
    await n0.gateway.close();
    nodes.splice(0, 1);
    await admin.flushall();
    let back: TestClient | undefined;
    await eventually(async () => {
      back = await connect(n1.url, {
        name: 'alice',
        room: 'lobby',
        resume: alice.welcome.resumeToken,
      });
    }, 15_000);
    if (back === undefined) throw new Error('alice never came back');
    clients.push(back);
    expect(back.welcome.user).toEqual(alice.welcome.user);
    const retried = await sendRetrying(back, 'hello');
    expect(retried).toMatchObject({ id: first.id, seq: first.seq });
    await sendRetrying(back, 'after');
    await eventually(() => expect(texts(dave)).toEqual(['hello', 'after']));
  }, 60_000);

  it('a position only a dead node delivered is not given again after FLUSHALL: the room starts a new epoch, and live members are told', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    // #ruins: alice (on n0) and carol (on n1) see a1-a3; then carol leaves, so only n0 delivers
    // a4 and a5. #lobby: erin and frank on n1 stay throughout.
    const alice = await connectRetrying(n0.url, 'alice', 'ruins');
    const carol = await connectRetrying(n1.url, 'carol', 'ruins');
    const erin = await connectRetrying(n1.url, 'erin', 'lobby');
    const frank = await connectRetrying(n1.url, 'frank', 'lobby');
    const acks: SendResult[] = [];
    for (let i = 1; i <= 3; i++) acks.push(await sendRetrying(alice, `a${i}`));
    await eventually(() => expect(texts(carol)).toEqual(['a1', 'a2', 'a3']));
    const epoch = acks[0]?.epoch;
    expect(epoch).toEqual(expect.any(String));
    const l1 = await sendRetrying(erin, 'l1');
    await eventually(() => expect(texts(frank)).toEqual(['l1']));
    carol.close();
    for (let i = 4; i <= 5; i++) acks.push(await sendRetrying(alice, `a${i}`));
    expect(acks.map((ack) => ack.seq)).toEqual([1, 2, 3, 4, 5]);

    // n0 goes (nothing alive remembers a4 and a5 at positions 4 and 5), then Redis forgets all.
    await n0.gateway.close();
    nodes.splice(0, 1);
    await admin.flushall();
    // carol resumes from position 3, the last she saw, and sends.
    const sent = await carolResumesAndSends(n1.url, 'ruins', 3, epoch);
    // Position (epoch, 4) or (epoch, 5) again would give a4's or a5's place to c1.
    expect(sent.epoch).toEqual(expect.any(String));
    expect(sent.epoch).not.toBe(epoch);

    // #lobby's live members are told of its new epoch before its next message, and keep going.
    const l2 = await sendRetrying(erin, 'l2');
    expect(l2.epoch).not.toBe(l1.epoch);
    await eventually(() => expect(texts(frank)).toEqual(['l1', 'l2']));
    const renewed = renewals(frank);
    expect(renewed).toEqual([
      { room: 'lobby', seq: l2.seq - 1, replayed: 0, lost: 0, epoch: l2.epoch, renewed: true },
    ]);
    const l3 = await sendRetrying(frank, 'l3');
    expect(l3).toMatchObject({ epoch: l2.epoch, seq: l2.seq + 1 });
    await eventually(() => expect(texts(erin)).toEqual(['l3']));
  }, 60_000);

  it('a resume beyond a room log that still has its epoch proves a loss no check-in saw: the room starts a new epoch', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    const prefix = prefixOf(n0);
    admin = adminClient(redis.url);
    // Only n0 follows #vault: carol sees 1-5 and goes; dave sees 6 and 7 too.
    const alice = await connectRetrying(n0.url, 'alice', 'vault');
    const carol = await connectRetrying(n0.url, 'carol', 'vault');
    const dave = await connectRetrying(n0.url, 'dave', 'vault');
    const acks: SendResult[] = [];
    for (let i = 1; i <= 5; i++) acks.push(await sendRetrying(alice, `a${i}`));
    await eventually(() => expect(texts(carol)).toHaveLength(5));
    carol.close();
    for (let i = 6; i <= 7; i++) acks.push(await sendRetrying(alice, `a${i}`));
    await eventually(() => expect(texts(dave)).toHaveLength(7));
    const epoch = acks[0]?.epoch;
    // n0 goes with alice and dave; then the room's log goes back to position 3 while every
    // node's mark stays as written (a rollback younger than a lease round: no check-in sees it).
    await n0.gateway.close();
    nodes.splice(0, 1);
    await admin.set(`${prefix}:seq:vault`, '3');
    for (let seq = 4; seq <= 7; seq++) await admin.xdel(`${prefix}:log:vault`, `${seq}-0`);

    const sent = await carolResumesAndSends(n1.url, 'vault', 5, epoch);
    // (epoch, 6) again would give dave's a6 place to c1.
    expect(sent.epoch).toEqual(expect.any(String));
    expect(sent.epoch).not.toBe(epoch);
  }, 60_000);
});

describe('a retry from before Redis lost its records, whose first attempt nobody alive saw', () => {
  it('is refused with RECORDS_LOST and not stored again: a room message and a DM', async () => {
    nodes = await redisCluster(redis.url, 2, ENV);
    const [n0, n1] = [at(nodes, 0), at(nodes, 1)];
    admin = adminClient(redis.url);
    // alice and carol are alone on n0, in a room n1 does not follow; bob is on n1 elsewhere.
    const alice = await connectRetrying(n0.url, 'alice', 'attic');
    const carol = await connectRetrying(n0.url, 'carol', 'cellar');
    const bob = await connectRetrying(n1.url, 'bob', 'lobby');
    const told: string[] = [];
    bob.socket.on('generation', ({ generation }) => told.push(generation));
    const first = alice.welcome.generation;
    expect(first).toEqual(expect.any(String));
    // Both stored; say their acks never reached alice.
    await alice.send('hello', { cid: 'c-1' });
    await expect(alice.request('dm', { to: 'carol', text: 'psst', cid: 'c-2' })).resolves.toEqual(
      expect.objectContaining({ ok: true }),
    );

    // n0 goes with its memory of both sends, then Redis forgets everything.
    await n0.gateway.close();
    nodes.splice(0, 1);
    await admin.flushall();
    const back = await connectRetrying(n1.url, 'alice', 'attic', alice.welcome.resumeToken);
    const carolBack = await connectRetrying(n1.url, 'carol', 'cellar', carol.welcome.resumeToken);
    expect(back.welcome.user).toEqual(alice.welcome.user);

    // The retries, with the generation of their first attempt: nothing can vouch for them.
    const retry = { text: 'hello', cid: 'c-1', generation: first };
    const refused = { ok: false, error: { code: 'RECORDS_LOST', retryable: false } };
    expect(await answered(back, 'send', retry)).toMatchObject(refused);
    expect(
      await answered(back, 'dm', { to: 'carol', text: 'psst', cid: 'c-2', generation: first }),
    ).toMatchObject(refused);
    // Only what was sent after: 'hello' was not stored a second time.
    expect(await answered(back, 'send', { text: 'after', cid: 'c-3' })).toMatchObject({ ok: true });
    const reader = await connectRetrying(n1.url, 'dave', 'attic');
    expect(reader.welcome.generation).not.toBe(first);
    // bob, connected through it all, was told the new generation once.
    await eventually(() => expect(told).toEqual([reader.welcome.generation]));
    expect(texts(reader)).toEqual(['after']);
    expect(await answered(back, 'dm', { to: 'carol', text: 'later', cid: 'c-4' })).toMatchObject({
      ok: true,
    });
    const history = (await carolBack.request('history', { with: 'alice' })) as Ack<HistoryResult>;
    expect(history.ok && history.messages.map((m) => m.text)).toEqual(['later']);
  }, 60_000);

  it('a retry of the current generation, or with a surviving record, is answered as before', async () => {
    nodes = await redisCluster(redis.url, 1, ENV);
    const alice = await connectRetrying(at(nodes, 0).url, 'alice', 'attic');
    const generation = alice.welcome.generation;
    const sent = await alice.send('hello', { cid: 'c-1' });
    // A retry that finds its record: the first ack again.
    expect(await answered(alice, 'send', { text: 'hello', cid: 'c-1', generation })).toMatchObject({
      ok: true,
      id: sent.id,
      seq: sent.seq,
    });
    // Its record kept, the broker's generation another: still the first ack.
    expect(
      await answered(alice, 'send', { text: 'hello', cid: 'c-1', generation: 'older' }),
    ).toMatchObject({ ok: true, id: sent.id, seq: sent.seq });
    // A first attempt in this generation with no record is stored.
    expect(await answered(alice, 'send', { text: 'new', cid: 'c-2', generation })).toMatchObject({
      ok: true,
      seq: sent.seq + 1,
    });
  }, 60_000);
});
