import { freePort, useGatewayCluster, usePostgres, useRedis } from '@chat/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, type TestClient } from '../support/client';
import { at, closeAll, redisCluster, type RunningGateway } from '../support/cluster';

/**
 * The archive's promises when things fail: a gateway killed right after an ack still leaves
 * its message archived, and PostgreSQL stopped for 30 s under load loses nothing, slows no
 * one, and its backlog drains when it returns.
 */

interface Row {
  seq: string;
  id: string;
}

/** A gauge or counter of a gateway's /metrics (the sum of its samples). */
async function metric(node: RunningGateway, name: string): Promise<number> {
  const text = await node.gateway.metrics.registry.getSingleMetricAsString(name);
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

describe('archive faults', () => {
  const postgres = usePostgres();
  const archived = (room: string) =>
    postgres().query<Row>('SELECT seq, id FROM archive_messages WHERE room = $1 ORDER BY seq', [
      room,
    ]);

  describe('a gateway SIGKILLed right after an ack', () => {
    const processes = useGatewayCluster({ env: { ARCHIVE_SWEEP_MS: '2000' } });
    const clients: TestClient[] = [];
    afterEach(() => clients.splice(0).forEach((c) => c.close()));

    it('its message is archived anyway (by the recovery sweep), within a bounded delay', async ({
      annotate,
    }) => {
      // The doomed node's own archive is unreachable: only the survivor can archive the message.
      // It delivered the message but leaves it to its node (no ARCHIVE_FOLLOWER_DELAY_MS): the
      // sweep, which the survivor runs, reads it from the room log.
      const nowhere = `postgres://chat:chat@127.0.0.1:${await freePort()}/chat`;
      const doomed = await processes.start('kill-a', { DATABASE_URL: nowhere });
      const survivor = await processes.start('kill-b', { DATABASE_URL: postgres().url });
      const ann = await connect(doomed.url, { name: 'ann', room: 'lastwords' });
      const ben = await connect(survivor.url, { name: 'ben', room: 'lastwords' });
      clients.push(ann, ben);
      const ack = await ann.send('written just before the end');
      const acked = Date.now();
      await doomed.crash();
      await eventually(
        async () =>
          expect(await archived('lastwords')).toEqual([{ seq: String(ack.seq), id: ack.id }]),
        15_000,
      );
      // Two sweep rounds (ARCHIVE_SWEEP_MS, 2 s): one sees the head, the next writes up to it.
      const delay = Date.now() - acked;
      await annotate(`archived ${delay} ms after its ack`);
      expect(delay).toBeLessThan(6_000);
    });
  });

  describe("a DM's sending gateway SIGKILLed right after its ack, the recipient offline", () => {
    const processes = useGatewayCluster({ env: { ARCHIVE_SWEEP_MS: '2000' } });
    const clients: TestClient[] = [];
    afterEach(() => clients.splice(0).forEach((c) => c.close()));

    it('the DM is archived once from its conversation log by the recovery sweep, within 6 s', async ({
      annotate,
    }) => {
      // User ids start over with this Redis: forget other tests' conversations.
      await postgres().query('DELETE FROM archive_dms');
      // No node but the doomed one ever holds the DM, and its own archive is unreachable: only
      // the sweep, reading the conversation's log in Redis, can archive it.
      const nowhere = `postgres://chat:chat@127.0.0.1:${await freePort()}/chat`;
      const doomed = await processes.start('dm-a', { DATABASE_URL: nowhere });
      const survivor = await processes.start('dm-b', { DATABASE_URL: postgres().url });
      const once = await connect(survivor.url, { name: 'ben', room: 'hall' });
      const { resumeToken } = once.welcome;
      once.close();
      const ann = await connect(doomed.url, { name: 'ann', room: 'hall' });
      clients.push(ann);
      const ack = await ann.request('dm', { to: 'ben', text: 'for when you are back' });
      expect(ack).toMatchObject({ ok: true });
      const { id, seq, conversation } = ack as unknown as {
        id: string;
        seq: number;
        conversation: string;
      };
      const acked = Date.now();
      await doomed.crash();
      const rows = () =>
        postgres().query<{ conversation: string; seq: string; id: string }>(
          'SELECT conversation, seq, id FROM archive_dms',
        );
      await eventually(
        async () => expect(await rows()).toEqual([{ conversation, seq: String(seq), id }]),
        20_000,
      );
      // Two sweep rounds (ARCHIVE_SWEEP_MS, 2 s): one sees the head, the next writes up to it.
      const delay = Date.now() - acked;
      await annotate(`DM archived by the sweep ${delay} ms after its ack`);
      expect(delay).toBeLessThan(6_000);
      // Back online (the same user), ben finds it once; and the sweep wrote it once.
      const ben = await connect(survivor.url, { resume: resumeToken, room: 'hall' });
      clients.push(ben);
      const history = await ben.request('history', { with: 'ann' });
      expect(history).toMatchObject({
        ok: true,
        messages: [{ id, text: 'for when you are back' }],
      });
      expect(await rows()).toHaveLength(1);
    });
  });

  describe('the only gateway with members in a room SIGKILLed right after an ack', () => {
    const processes = useGatewayCluster({ env: { ARCHIVE_SWEEP_MS: '2000' } });
    const clients: TestClient[] = [];
    afterEach(() => clients.splice(0).forEach((c) => c.close()));

    it('its message is archived from the room log by the recovery sweep, within 6 s', async ({
      annotate,
    }) => {
      // No other node delivered the message, and the doomed node's own archive is unreachable:
      // only the sweep, reading the room log in Redis, can archive it.
      const nowhere = `postgres://chat:chat@127.0.0.1:${await freePort()}/chat`;
      const doomed = await processes.start('alone-a', { DATABASE_URL: nowhere });
      await processes.start('alone-b', { DATABASE_URL: postgres().url });
      const ann = await connect(doomed.url, { name: 'ann', room: 'nobodyelse' });
      const cat = await connect(doomed.url, { name: 'cat', room: 'nobodyelse' });
      clients.push(ann, cat);
      const first = await ann.send('said before anyone could archive it');
      const ack = await cat.send('and the last word');
      const acked = Date.now();
      await doomed.crash();
      await eventually(
        async () =>
          expect(await archived('nobodyelse')).toEqual([
            { seq: String(first.seq), id: first.id },
            { seq: String(ack.seq), id: ack.id },
          ]),
        20_000,
      );
      // Two sweep rounds (ARCHIVE_SWEEP_MS, 2 s): one sees the head, the next writes up to it.
      const delay = Date.now() - acked;
      await annotate(`archived by the sweep ${delay} ms after its ack`);
      expect(delay).toBeLessThan(6_000);
    });
  });

  describe('a gateway drained (SIGTERM)', () => {
    const processes = useGatewayCluster({ env: { ARCHIVE_FOLLOWER_DELAY_MS: '600000' } });
    const clients: TestClient[] = [];
    afterEach(() => clients.splice(0).forEach((c) => c.close()));

    it('writes its archive backlog before it exits', async () => {
      const nowhere = `postgres://chat:chat@127.0.0.1:${await freePort()}/chat`;
      const sender = await processes.start('drain-a', { DATABASE_URL: nowhere });
      const holder = await processes.start('drain-b', { DATABASE_URL: postgres().url });
      const ann = await connect(sender.url, { name: 'ann', room: 'farewell' });
      const ben = await connect(holder.url, { name: 'ben', room: 'farewell' });
      clients.push(ann, ben);
      const ack = await ann.send('held by the other node');
      // ben's node holds it for 10 minutes (another node appended it); its drain writes it now.
      await eventually(() =>
        expect(ben.messages.map((m) => m.text)).toContain('held by the other node'),
      );
      expect(await archived('farewell')).toEqual([]);
      expect(await holder.stop()).toEqual({ code: 0, signal: null });
      expect(await archived('farewell')).toEqual([{ seq: String(ack.seq), id: ack.id }]);
    });
  });

  describe('PostgreSQL stopped for 30 s under load', () => {
    const redis = useRedis();
    const clients: TestClient[] = [];
    const nodes: RunningGateway[] = [];
    afterEach(() => closeAll(clients, nodes));

    it('loses nothing, keeps the chat fast, and drains its backlog afterwards', async () => {
      nodes.push(
        // Each node holds only the messages it appended: no follower writes (the default).
        ...(await redisCluster(redis.url, 3, { DATABASE_URL: postgres().url })),
      );
      const senders = await Promise.all(
        nodes.map((node, i) => connect(node.url, { name: `s${i}`, room: 'steady', batch: true })),
      );
      clients.push(...senders);
      const acks: { seq: number; id: string }[] = [];
      const latency = { before: [] as number[], during: [] as number[] };
      let phase: keyof typeof latency = 'before';
      let running = true;
      // About 30 messages a second from three senders on three nodes.
      const load = (async () => {
        for (let i = 0; running; i++) {
          const started = performance.now();
          acks.push(await at(senders, i % 3).send(`m${i}`));
          latency[phase].push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 33));
        }
      })();
      await eventually(() => expect(latency.before.length).toBeGreaterThan(100), 20_000);
      await postgres().stop();
      phase = 'during';
      const stoppedAt = Date.now();
      await eventually(
        async () =>
          expect(await metric(at(nodes, 0), 'chat_archive_backlog_messages')).toBeGreaterThan(0),
        5_000,
      );
      await eventually(() => expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(30_000), 40_000);
      // Summed over the nodes: each holds what it appended.
      let backlog = 0;
      for (const node of nodes) backlog += await metric(node, 'chat_archive_backlog_messages');
      const age = await metric(at(nodes, 0), 'chat_archive_backlog_age_seconds');
      await postgres().start();
      running = false;
      await load;
      // The backlog held the outage (30 s of messages, in memory) and told its age.
      expect(backlog).toBeGreaterThan(300);
      expect(age).toBeGreaterThan(20);
      for (const node of nodes) {
        await eventually(
          async () => expect(await metric(node, 'chat_archive_backlog_messages')).toBe(0),
          30_000,
        );
      }
      // `docker stop` makes this PostgreSQL (no STOPSIGNAL: a smart shutdown, which waits for
      // the gateways' pooled sessions) serve them until it is killed 10 s later, losing its last
      // commits (the tests run it with synchronous_commit off). The nodes had those rows
      // confirmed; the recovery sweep writes them back from the room log within two rounds.
      const expected = acks.map((a) => [a.seq, a.id]).sort((x, y) => Number(x[0]) - Number(y[0]));
      await eventually(
        async () =>
          expect((await archived('steady')).map((r) => [Number(r.seq), r.id])).toEqual(expected),
        15_000,
      );
      // The chat did not wait for PostgreSQL: sends were as fast during the outage as before.
      const p50 = {
        before: percentile(latency.before, 50),
        during: percentile(latency.during, 50),
      };
      const p99 = {
        before: percentile(latency.before, 99),
        during: percentile(latency.during, 99),
      };
      expect(p50.during, JSON.stringify({ p50, p99 })).toBeLessThan(p50.before * 2 + 10);
      expect(p99.during, JSON.stringify({ p50, p99 })).toBeLessThan(Math.max(p99.before * 3, 100));
    }, 120_000);
  });
});
