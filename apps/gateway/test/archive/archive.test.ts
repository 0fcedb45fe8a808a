import type { ChatMessage, DirectMessage, HistoryResult, RoomHistoryResult } from '@chat/protocol';
import { adminClient, useRedis, usePostgres } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, type TestClient } from '../support/client';
import { at, closeAll, redisCluster, type RunningGateway } from '../support/cluster';

/**
 * The archive with three gateways on one Redis and a real PostgreSQL: what users can tell,
 * that every acked message is kept once, pages back past the Redis window, is found by search
 * by members only, and outlives Redis losing its data.
 */

interface Row {
  room: string;
  epoch: string;
  seq: string;
  id: string;
  text: string;
}

describe('the message archive (PostgreSQL) under three gateways', () => {
  const redis = useRedis();
  const postgres = usePostgres();
  const clients: TestClient[] = [];
  const nodes: RunningGateway[] = [];
  afterEach(() => closeAll(clients, nodes));

  type Three = [RunningGateway, RunningGateway, RunningGateway];
  async function cluster(env: Record<string, string> = {}): Promise<Three> {
    const started = await redisCluster(redis.url, 3, {
      DATABASE_URL: postgres().url,
      ARCHIVE_FOLLOWER_DELAY_MS: '300',
      ...env,
    });
    nodes.push(...started);
    return [at(started, 0), at(started, 1), at(started, 2)];
  }

  async function join(node: RunningGateway, name: string, room: string): Promise<TestClient> {
    const client = await connect(node.url, { name, room, batch: true });
    clients.push(client);
    return client;
  }

  const archived = (room: string) =>
    postgres().query<Row>(
      'SELECT room, epoch, seq, id, text FROM archive_messages WHERE room = $1 ORDER BY seq',
      [room],
    );

  async function page(
    client: TestClient,
    request: Record<string, unknown>,
  ): Promise<RoomHistoryResult> {
    const ack = await client.request('history', request);
    if (!ack.ok) throw new Error(`history refused: ${JSON.stringify(ack)}`);
    return ack as unknown as RoomHistoryResult;
  }

  /** Pages back from the newest message until the gateway says there is nothing earlier. */
  async function pageAll(client: TestClient, room: string, limit: number): Promise<ChatMessage[]> {
    const all: ChatMessage[] = [];
    let request: Record<string, unknown> = { room, limit };
    for (let i = 0; i < 1_000; i++) {
      const result = await page(client, request);
      all.unshift(...result.messages);
      if (!result.more) return all;
      const first = result.messages[0];
      request =
        first === undefined
          ? { room, limit, epoch: result.epoch, before: 0 }
          : { room, limit, epoch: result.epoch, before: first.seq };
    }
    throw new Error('history never ended');
  }

  it('keeps every acked message exactly once, under its (room, epoch, seq)', async () => {
    const [a, b, c] = await cluster();
    const senders = [
      await join(a, 'ann', 'ledger'),
      await join(b, 'ben', 'ledger'),
      await join(c, 'cat', 'ledger'),
    ];
    const acks = await Promise.all(
      Array.from({ length: 90 }, (_, i) => at(senders, i % 3).send(`entry ${i}`)),
    );
    await eventually(async () => {
      const rows = await archived('ledger');
      expect(
        rows.map((r) => [Number(r.seq), r.id]).sort((x, y) => Number(x[0]) - Number(y[0])),
      ).toEqual(acks.map((ack) => [ack.seq, ack.id]).sort((x, y) => Number(x[0]) - Number(y[0])));
      expect(new Set(rows.map((r) => r.epoch))).toEqual(new Set(acks.map((ack) => ack.epoch)));
    }, 20_000);
  });

  it('pages back across the Redis window into the archive: every message once, in order', async () => {
    const [a, b, c] = await cluster({ HISTORY_LIMIT: '20', HISTORY_ON_JOIN: '5' });
    const ann = await join(a, 'ann', 'saga');
    await join(b, 'ben', 'saga');
    const sent: string[] = [];
    for (let i = 0; i < 75; i++) {
      sent.push(`line ${i}`);
      await ann.send(`line ${i}`);
    }
    await eventually(async () => expect(await archived('saga')).toHaveLength(75), 20_000);
    const reader = await join(c, 'cat', 'saga');
    const messages = await pageAll(reader, 'saga', 7);
    expect(messages.map((m) => m.text)).toEqual(sent);
    expect(messages.map((m) => m.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(messages.every((m) => m.history === true && m.from.name === 'ann')).toBe(true);
  });

  it('finds messages by their words, newest first, for members of the room only', async () => {
    // Reads take from the address' replay budget: a burst of 6, then 1 a second.
    const [a, b] = await cluster({ REPLAY_RATE_PER_IP: '1', REPLAY_BURST_PER_IP: '6' });
    const ann = await join(a, 'ann', 'plans');
    const ben = await join(b, 'ben', 'elsewhere');
    await ann.send('the launch is on Tuesday');
    await ann.send('lunch first');
    await ann.send('launch moved to Friday');
    await eventually(async () => expect(await archived('plans')).toHaveLength(3), 20_000);
    const found = await ann.request('search', { q: 'launch' });
    expect(found).toMatchObject({
      ok: true,
      room: 'plans',
      messages: [{ text: 'launch moved to Friday' }, { text: 'the launch is on Tuesday' }],
    });
    expect(await ann.request('search', { q: 'launch -friday' })).toMatchObject({
      messages: [{ text: 'the launch is on Tuesday' }],
    });
    expect(await ben.request('search', { room: 'plans', q: 'launch' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_JOINED' },
    });
    expect(await ben.request('history', { room: 'plans' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_JOINED' },
    });
    expect(await ben.request('search', { q: 'launch' })).toMatchObject({ ok: true, messages: [] });
    // A client searching without pause is refused (retryable) before PostgreSQL is asked.
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await ann.request('search', { q: 'launch' }));
    expect(answers).toContainEqual({
      ok: false,
      error: expect.objectContaining({ code: 'RATE_LIMITED', retryable: true }),
    });
  });

  it('Redis emptied: earlier history still pages back from the archive', async () => {
    const [a, b] = await cluster({ NODE_TTL_MS: '2000' });
    const ann = await join(a, 'ann', 'memory');
    await join(b, 'ben', 'memory');
    const before: string[] = [];
    for (let i = 0; i < 30; i++) {
      before.push(`old ${i}`);
      await ann.send(`old ${i}`);
    }
    await eventually(async () => expect(await archived('memory')).toHaveLength(30), 20_000);
    const admin = adminClient(redis.url);
    await admin.flushall();
    admin.disconnect();
    // The nodes notice within a lease round and raise the room back; then the chat goes on.
    const after: string[] = [];
    await eventually(async () => {
      await ann.send('still here?');
    }, 15_000);
    after.push('still here?');
    for (let i = 0; i < 5; i++) {
      after.push(`new ${i}`);
      await ann.send(`new ${i}`);
    }
    const texts = (await pageAll(ann, 'memory', 8)).map((m) => m.text);
    expect(texts.slice(0, 30)).toEqual(before);
    expect(texts.filter((t) => after.includes(t))).toEqual(after);
  });

  const archivedDms = (conversation: string) =>
    postgres().query<{ seq: string; id: string }>(
      'SELECT seq, id FROM archive_dms WHERE conversation = $1 ORDER BY ts, seq',
      [conversation],
    );

  /** Pages a conversation back from the newest message until nothing is earlier. */
  async function dmPageAll(client: TestClient, other: string, limit: number) {
    const all: DirectMessage[] = [];
    let request: Record<string, unknown> = { with: other, limit };
    for (let i = 0; i < 1_000; i++) {
      const ack = await client.request('history', request);
      if (!ack.ok) throw new Error(`history refused: ${JSON.stringify(ack)}`);
      const result = ack as unknown as HistoryResult;
      all.unshift(...result.messages);
      const first = result.messages[0];
      if (!result.more || first === undefined) return all;
      request = { with: other, limit, before: first.seq, beforeTs: first.ts };
    }
    throw new Error('history never ended');
  }

  async function dm(client: TestClient, to: string, text: string) {
    const ack = await client.request('dm', { to, text });
    if (!ack.ok) throw new Error(`dm refused: ${JSON.stringify(ack)}`);
    return ack as unknown as { id: string; conversation: string; seq: number };
  }

  it('keeps private messages once each, paged back past the Redis window by the two only', async () => {
    const [a, b, c] = await cluster({ DM_HISTORY_LIMIT: '10' });
    // User ids start over with each test's Redis: forget the earlier tests' conversations.
    await postgres().query('DELETE FROM archive_dms');
    const ann = await join(a, 'ann', 'lobby');
    const ben = await join(b, 'ben', 'lobby');
    const cat = await join(c, 'cat', 'lobby');
    const sent: string[] = [];
    let conversation = '';
    for (let i = 0; i < 25; i++) {
      const text = `secret ${i}`;
      sent.push(text);
      conversation = (await dm(i % 2 === 0 ? ann : ben, i % 2 === 0 ? 'ben' : 'ann', text))
        .conversation;
    }
    // Each message once, whichever of the two nodes that delivered it wrote it first.
    await eventually(async () => expect(await archivedDms(conversation)).toHaveLength(25), 20_000);
    expect(new Set((await archivedDms(conversation)).map((r) => r.id)).size).toBe(25);
    const paged = await dmPageAll(ben, 'ann', 7);
    expect(paged.map((m) => m.text)).toEqual(sent);
    expect(paged.map((m) => m.seq)).toEqual(sent.map((_, i) => i + 1));
    // Redis keeps the newest 10: the page that crosses its window still has every message once.
    const newest = await ben.request('history', { with: 'ann', limit: 12 });
    expect(newest).toMatchObject({ ok: true, first: 16, head: 25, more: true });
    expect((newest as unknown as HistoryResult).messages.map((m) => m.seq)).toEqual(
      Array.from({ length: 12 }, (_, i) => 14 + i),
    );
    // A third user names ann and gets their own (empty) conversation, never ann and ben's.
    expect(await cat.request('history', { with: 'ann' })).toMatchObject({
      ok: true,
      messages: [],
      more: false,
    });
    expect(await cat.request('history', { with: 'ben', before: 20 })).toMatchObject({
      ok: true,
      messages: [],
      more: false,
    });
  });

  it('a conversation Redis forgot starts over at seq 1: paging goes back through both lives, even after Redis lost everything', async () => {
    const [a, b] = await cluster({ NODE_TTL_MS: '2000' });
    await postgres().query('DELETE FROM archive_dms');
    const ann = await join(a, 'ann', 'lobby');
    const ben = await join(b, 'ben', 'lobby');
    const sent: string[] = [];
    let conversation = '';
    for (let i = 0; i < 12; i++) {
      sent.push(`first life ${i}`);
      conversation = (await dm(ann, 'ben', `first life ${i}`)).conversation;
    }
    await eventually(async () => expect(await archivedDms(conversation)).toHaveLength(12), 20_000);
    // The conversation's keys expire (ROOM_TTL_S after its last message): its seq starts over.
    const admin = adminClient(redis.url);
    const keys = await admin.keys('*dm-*');
    await admin.del(...keys.filter((k) => k.includes('dm-seq') || k.includes('dm-log')));
    for (let i = 0; i < 4; i++) {
      sent.push(`second life ${i}`);
      expect(
        await dm(i % 2 === 0 ? ben : ann, i % 2 === 0 ? 'ann' : 'ben', `second life ${i}`),
      ).toMatchObject({ seq: i + 1 });
    }
    await eventually(async () => expect(await archivedDms(conversation)).toHaveLength(16), 20_000);
    expect((await dmPageAll(ann, 'ben', 5)).map((m) => m.text)).toEqual(sent);
    // Redis loses everything: the conversation is still there, from the archive.
    await admin.flushall();
    admin.disconnect();
    await eventually(async () => {
      expect((await dmPageAll(ben, 'ann', 5)).map((m) => m.text)).toEqual(sent);
    }, 15_000);
  });
});
