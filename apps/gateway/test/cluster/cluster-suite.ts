import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, texts, type TestClient } from '../support/client';
import { at, stopAll, type RunningGateway } from '../support/cluster';

/**
 * What users of a three-node cluster see, whatever carries the traffic between the nodes: run
 * over the in-memory broker and over a real Redis.
 */
export function clusterSuite(
  name: string,
  startCluster: () => Promise<RunningGateway[]>,
  options: { batch?: boolean } = {},
) {
  const mode = options.batch ? 'batched delivery' : 'one event per message';
  describe(`three gateways over ${name}, ${mode}`, () => {
    let nodes: RunningGateway[];
    const clients: TestClient[] = [];
    const open = async (node: number, name?: string) => {
      const batch = options.batch === true;
      const client = await connect(
        at(nodes, node).url,
        name === undefined ? { batch } : { name, batch },
      );
      clients.push(client);
      return client;
    };

    beforeEach(async () => {
      nodes = await startCluster();
    });

    afterEach(async () => {
      for (const client of clients.splice(0)) client.close();
      await stopAll(nodes);
    });

    it('welcomes each client with a cluster-unique id, its name and its node', async () => {
      const a = await open(0, 'alice');
      const b = await open(1);
      expect(a.welcome).toMatchObject({
        user: { name: 'alice' },
        node: at(nodes, 0).nodeId,
        room: 'lobby',
      });
      expect(b.welcome.node).toBe(at(nodes, 1).nodeId);
      expect(b.welcome.user.name).toBe(`User ${b.welcome.user.id}`);
      expect(a.welcome.user.id).not.toBe(b.welcome.user.id);
    });

    it('delivers a message to everyone else on every node exactly once, never to the sender', async () => {
      const alice = await open(0, 'alice');
      const bob = await open(1, 'bob');
      const carol = await open(2, 'carol');
      const dave = await open(0, 'dave');
      const ack = await alice.send('hello all');
      expect(ack.seq).toBeGreaterThan(0);
      for (const other of [bob, carol, dave]) {
        await eventually(() => expect(texts(other)).toEqual(['hello all']));
        expect(other.messages[0]).toMatchObject({
          from: { name: 'alice' },
          id: ack.id,
          seq: ack.seq,
        });
      }
      // A later message proves the first was not also delivered late to the sender.
      await bob.send('marker');
      await eventually(() => expect(texts(alice)).toEqual(['marker']));
    });

    it('announces joins and leaves to others, in order, and not to the user themself', async () => {
      const alice = await open(0, 'alice');
      const bob = await open(1, 'bob');
      await eventually(() => expect(alice.lines).toContain('bob joined'));
      bob.close();
      await eventually(() => expect(alice.lines).toContain('bob left'));
      expect(alice.lines.filter((l) => l.startsWith('bob'))).toEqual(['bob joined', 'bob left']);
      expect(alice.left[0]?.reason).toBe('quit');
      expect(bob.lines).not.toContain('bob joined');
    });

    it('names the room a user moved to in the left notice, on every node', async () => {
      const alice = await open(0, 'alice');
      const bob = await open(1, 'bob');
      await eventually(() => expect(alice.lines).toContain('bob joined'));
      expect(await bob.request('join', { room: 'dev' })).toMatchObject({ ok: true });
      await eventually(() => expect(alice.left).toHaveLength(1));
      expect(alice.left[0]).toEqual({
        room: 'lobby',
        user: bob.welcome.user,
        reason: 'moved',
        to: 'dev',
      });
    });

    it('names an unnamed user "User <id>" in notices', async () => {
      const alice = await open(0, 'alice');
      const anon = await open(2);
      await eventually(() => expect(alice.lines).toContain(`User ${anon.welcome.user.id} joined`));
    });

    it('keeps per-sender order across nodes', async () => {
      const alice = await open(0, 'alice');
      const bob = await open(1, 'bob');
      const carol = await open(2, 'carol');
      const sent = Array.from({ length: 200 }, (_, i) => `a${i}`);
      const interleaved = Array.from({ length: 200 }, (_, i) => `b${i}`);
      await Promise.all([
        (async () => {
          for (const text of sent) await alice.send(text);
        })(),
        (async () => {
          for (const text of interleaved) await bob.send(text);
        })(),
      ]);
      await eventually(() => expect(carol.messages).toHaveLength(400));
      expect(texts(carol).filter((t) => t.startsWith('a'))).toEqual(sent);
      expect(texts(carol).filter((t) => t.startsWith('b'))).toEqual(interleaved);
      // One total order per room: seqs strictly increase as delivered.
      const seqs = carol.messages.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      await eventually(() => expect(texts(bob).filter((t) => t.startsWith('a'))).toEqual(sent));
    });

    it('refuses a name already taken on another node, case-insensitively', async () => {
      await open(0, 'alice');
      const error = await refused(at(nodes, 1).url, { name: 'ALICE' });
      expect(error).toEqual({
        code: 'NAME_TAKEN',
        message: "the name 'ALICE' is taken",
        retryable: false,
      });
    });

    it('frees a name when its user quits', async () => {
      const alice = await open(0, 'alice');
      const bob = await open(1, 'bob');
      alice.close();
      await eventually(() => expect(bob.lines).toContain('alice left'));
      const again = await open(2, 'alice');
      expect(again.welcome.user.name).toBe('alice');
    });

    it('answers bad input with a coded error and keeps serving', async () => {
      const alice = await open(0, 'alice');
      const bob = await open(1, 'bob');
      expect(await alice.request('send', { text: '   ' })).toMatchObject({
        ok: false,
        error: { code: 'EMPTY_TEXT' },
      });
      expect(await alice.request('send', { text: 'x'.repeat(2001) })).toMatchObject({
        ok: false,
        error: { code: 'TEXT_TOO_LONG' },
      });
      expect(await alice.request('send', 'just a string')).toMatchObject({
        ok: false,
        error: { code: 'BAD_REQUEST' },
      });
      expect(await alice.request('send', { text: 'hi', room: 'elsewhere' })).toMatchObject({
        ok: false,
        error: { code: 'NOT_JOINED' },
      });
      await alice.send('still here');
      await eventually(() => expect(texts(bob)).toEqual(['still here']));
    });
  });
}
