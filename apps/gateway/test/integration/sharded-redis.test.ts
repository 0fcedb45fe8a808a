import { useRedisCluster } from '@chat/test-support';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterSuite } from '../cluster/cluster-suite';
import { dmSuite } from '../cluster/dm-suite';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { at, closeAll, redisCluster, type RunningGateway } from '../support/cluster';

/** Three gateways on a Redis Cluster (3 masters, 3 replicas): what users see is unchanged. */
const cluster = useRedisCluster();
const where = () => ({ cluster: cluster().seedsEnv });

clusterSuite('a Redis Cluster', () => redisCluster(where(), 3));
dmSuite('a Redis Cluster', (overrides) => redisCluster(where(), 3, overrides));

const SECRET = 'a-test-secret-of-enough-length';

function token(sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, name: sub, iat: now, exp: now + 3_600 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

describe('three gateways on a Redis Cluster', () => {
  let nodes: RunningGateway[] = [];
  const clients: TestClient[] = [];
  const open = async (node: number, options: Parameters<typeof connect>[1]) => {
    const client = await connect(at(nodes, node).url, options);
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    await closeAll(clients, nodes);
  });

  it('carries 10 rooms: every message once to every other member, in order; history and resume on another node', async () => {
    nodes = await redisCluster(where(), 3);
    const rooms = Array.from({ length: 10 }, (_, i) => `room-${i}`);
    const members = new Map<string, TestClient[]>();
    for (const room of rooms) {
      const inRoom = [];
      for (let node = 0; node < 3; node++) {
        inRoom.push(await open(node, { name: `${room}-m${node}`, room }));
      }
      members.set(room, inRoom);
    }
    const sent = (room: string, node: number) =>
      Array.from({ length: 5 }, (_, i) => `${room} from n${node} #${i}`);
    await Promise.all(
      rooms.flatMap((room) =>
        (members.get(room) ?? []).map(async (client, node) => {
          for (const text of sent(room, node)) await client.send(text);
        }),
      ),
    );
    for (const room of rooms) {
      const inRoom = members.get(room) ?? [];
      for (const [node, client] of inRoom.entries()) {
        const expected = [0, 1, 2].filter((n) => n !== node).flatMap((n) => sent(room, n));
        await eventually(() => expect(client.messages).toHaveLength(expected.length));
        expect([...texts(client)].sort()).toEqual([...expected].sort());
        for (const n of [0, 1, 2].filter((other) => other !== node)) {
          expect(texts(client).filter((t) => t.startsWith(`${room} from n${n} `))).toEqual(
            sent(room, n),
          );
        }
        const seqs = client.messages.map((m) => m.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    }
    // History on join, on a node the room already has members on, and on one it has none.
    const late = await open(1, { name: 'late', room: 'room-3' });
    expect(late.messages).toHaveLength(15);
    expect(late.messages.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    // Resume on another node: exactly what was missed, once.
    const leaving = at(members.get('room-7') ?? [], 0);
    const position = Math.max(...leaving.messages.map((m) => m.seq));
    leaving.close();
    const staying = at(members.get('room-7') ?? [], 1);
    await staying.send('while you were away 1');
    await staying.send('while you were away 2');
    const back = await open(2, {
      resume: leaving.welcome.resumeToken,
      room: 'room-7',
      since: position,
    });
    expect(texts(back)).toEqual(['while you were away 1', 'while you were away 2']);
  });

  it('shares a user rate budget across nodes (one user, two nodes)', async () => {
    nodes = await redisCluster(where(), 2, {
      AUTH_SECRET: SECRET,
      RATE_PER_SEC: '1',
      RATE_BURST: '6',
    });
    const onA = await open(0, { token: await token('ratty') });
    const onB = await open(1, { token: await token('ratty') });
    const outcomes: string[] = [];
    const started = Date.now();
    for (let i = 0; i < 6; i++) {
      for (const client of [onA, onB]) {
        outcomes.push(
          await client.send(`m${i}`).then(
            () => 'ok',
            (error: { data?: { code: string } }) => error.data?.code ?? 'error',
          ),
        );
      }
    }
    // 6 tokens for the user (and one a second since), wherever its sessions are: a second node
    // adds none (two budgets would have let all 12 through).
    const refill = Math.ceil((Date.now() - started) / 1000);
    const ok = outcomes.filter((o) => o === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(6);
    expect(ok).toBeLessThanOrEqual(Math.min(11, 6 + refill));
    expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'RATE_LIMITED')).toBe(true);
  });

  it('shares an address budget across nodes for anonymous senders', async () => {
    nodes = await redisCluster(where(), 2, { ANON_RATE_PER_IP: '1', ANON_BURST_PER_IP: '4' });
    const a = await open(0, { name: 'anon-a' });
    const b = await open(1, { name: 'anon-b' });
    let ok = 0;
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      for (const client of [a, b]) {
        ok += await client.send(`x${i}`).then(
          () => 1,
          () => 0,
        );
      }
    }
    // 4 tokens for the address (and one a second since), not 4 per node.
    expect(ok).toBeGreaterThanOrEqual(4);
    expect(ok).toBeLessThanOrEqual(Math.min(7, 4 + Math.ceil((Date.now() - started) / 1000)));
  });
});
