import type { ChatMessage, RoomHistoryResult } from '@chat/protocol';
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
});
