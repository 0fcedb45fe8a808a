import { chatError } from '@chat/protocol';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, type ChatClientOptions } from '../src/client';
import type { ClientEvent } from '../src/events';
import { FakeCluster } from './support/fake-cluster';
import { connectPeer, type Peer } from './support/peer';

// ChatClient in-process against the fake cluster, for what is too slow or too fine-grained to
// drive through the CLI binary: deadlines, and what goes over the wire on a rejoin.

let cluster: FakeCluster;
const clients: ChatClient[] = [];
const peers: Peer[] = [];

afterEach(async () => {
  clients.splice(0).forEach((c) => c.quit());
  peers.splice(0).forEach((p) => p.close());
  await cluster.close();
});

function client(options: Omit<ChatClientOptions, 'onEvent'>): {
  chat: ChatClient;
  events: ClientEvent[];
} {
  const events: ClientEvent[] = [];
  const chat = new ChatClient({ ...options, onEvent: (e) => events.push(e) });
  clients.push(chat);
  return { chat, events };
}

/** alice connected to `first` of two nodes, failing over to `second`. */
async function aliceOnTwoNodes() {
  cluster = new FakeCluster();
  const first = await cluster.start('first');
  const second = await cluster.start('second');
  const { chat, events } = client({ urls: [first.url, second.url], name: 'alice' });
  void chat.run();
  await chat.ready;
  return { first, second, chat, events };
}

describe('ChatClient', () => {
  it('gives up after giveUpAfterMs without any gateway', async () => {
    cluster = new FakeCluster();
    const node = await cluster.start('only');
    const { chat, events } = client({ urls: [node.url], giveUpAfterMs: 300 });
    const ended = chat.run();
    await chat.ready;
    await node.kill();
    const end = await ended;
    expect(end).toEqual({
      kind: 'unreachable',
      message: expect.stringMatching(/^no gateway reachable \(http:\/\/127\.0\.0\.1:\d+: .+\)$/),
    });
    expect(events.map((e) => e.type)).toEqual(['welcome', 'synced', 'connection-lost']);
  });

  // Found by the chaos soak: a client failing over onto a draining node waited for its
  // handshake forever, and never reconnected.
  it('moves on from a gateway that takes the connection but never answers the handshake', async () => {
    cluster = new FakeCluster();
    const live = await cluster.start('live');
    const http = createServer();
    const stuck = new Server(http);
    stuck.use(() => undefined); // the handshake never completes
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const { chat, events } = client({ urls: [url, live.url], connectTimeoutMs: 300 });
      void chat.run();
      await chat.ready;
      expect(events[0]).toMatchObject({ type: 'welcome', welcome: { node: 'live' } });
    } finally {
      await stuck.close();
    }
  });

  it('moves on from a gateway that closes the connection before answering the handshake', async () => {
    cluster = new FakeCluster();
    const live = await cluster.start('live');
    const http = createServer();
    const closing = new Server(http);
    closing.use((socket) => socket.conn.close()); // the transport ends, no answer
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const { chat, events } = client({ urls: [url, live.url], connectTimeoutMs: 60_000 });
      void chat.run();
      await chat.ready;
      expect(events.find((e) => e.type === 'welcome')).toMatchObject({ welcome: { node: 'live' } });
    } finally {
      await closing.close();
    }
  });

  it('skips a URL that refuses the connection and uses the next one at start-up', async () => {
    cluster = new FakeCluster();
    const dead = await cluster.start('dead');
    await dead.kill();
    const live = await cluster.start('live');
    const { chat, events } = client({ urls: [dead.url, live.url], name: 'alice' });
    void chat.run();
    await chat.ready;
    expect(events[0]).toMatchObject({ type: 'welcome', welcome: { node: 'live' } });
  });

  it('keeps trying at start-up while gateways answer UNAVAILABLE', async () => {
    cluster = new FakeCluster();
    const node = await cluster.start('busy');
    node.rejectWith = chatError('UNAVAILABLE');
    const { chat } = client({ urls: [node.url], backoff: { initialMs: 5, maxMs: 20 } });
    void chat.run();
    await expect.poll(() => node.handshakes.length).toBeGreaterThan(2);
    node.rejectWith = undefined;
    await chat.ready;
    expect(chat.user).toEqual({ id: 1, name: 'User 1' });
  });

  it('says it is connected and waiting while a gateway answers UNAVAILABLE, and names the cause when it gives up', async () => {
    cluster = new FakeCluster();
    const node = await cluster.start('no-redis');
    const cause = 'this gateway cannot reach the message broker (Redis) right now; retry';
    node.rejectWith = chatError('UNAVAILABLE', cause);
    const { chat, events } = client({
      urls: [node.url],
      giveUpAfterMs: 1_000,
      backoff: { initialMs: 5, maxMs: 20 },
    });
    const end = await chat.run();
    expect(node.handshakes.length).toBeGreaterThan(2);
    expect(events).toEqual([{ type: 'waiting', url: node.url, error: node.rejectWith }]);
    expect(end).toEqual({
      kind: 'unreachable',
      message: `gave up waiting for the cluster after 1 s (${node.url}: ${cause})`,
    });
  });

  // Found by the chaos soak: both showed a message twice after a fail-over.
  it('shows a message seen above a hole once when the resume replays it', async () => {
    const { first, second, chat, events } = await aliceOnTwoNodes();
    const bob = await connectPeer(second.url, { name: 'bob' });
    peers.push(bob);
    first.holdAcks = true; // our own send is stored (seq 1), its ack never comes: a hole
    const mine = chat.send('mine');
    await expect.poll(() => first.sends.length).toBe(1);
    bob.socket.emit('send', { text: 'after' }, () => undefined); // seq 2, seen live
    await expect.poll(() => events.filter((e) => e.type === 'message')).toHaveLength(1);
    await first.kill(); // resume on `second` from the watermark, 0: seq 2 is replayed
    await expect(mine).resolves.toMatchObject({ ok: true, value: { seq: 1 } });
    await expect.poll(() => events.filter((e) => e.type === 'synced')).toHaveLength(2);
    const texts = events.flatMap((e) => (e.type === 'message' ? [e.message.text] : []));
    expect(texts).toEqual(['after']);
  });

  it('sends its own DM positions on a reconnect, so its DMs are not given back to it', async () => {
    cluster = new FakeCluster();
    const first = await cluster.start('first');
    const second = await cluster.start('second');
    const { chat } = client({ urls: [first.url, second.url], name: 'alice' });
    void chat.run();
    await chat.ready;
    peers.push(await connectPeer(second.url, { name: 'bob' }));
    const sent = await chat.dm('bob', 'psst');
    expect(sent).toMatchObject({ ok: true, value: { conversation: '1-2', seq: 1 } });
    await first.kill();
    await expect.poll(() => second.handshakes.length).toBe(2);
    expect(second.handshakes.at(-1)).toMatchObject({ dms: { '1-2': 1 } });
  });

  // Found by the Sentinel soak: a promotion lost the end of a conversation, and the catch-up of
  // the next resume, starting below the position the client sent, gave a DM it had again.
  it('shows a DM once when a catch-up after a reconnect gives it again', async () => {
    const { first, second, events } = await aliceOnTwoNodes();
    const bob = await connectPeer(first.url, { name: 'bob' });
    peers.push(bob);
    bob.socket.emit('dm', { to: 'alice', text: 'psst' }, () => undefined);
    const dms = () => events.flatMap((e) => (e.type === 'dm' ? [e.message] : []));
    await expect.poll(() => dms()).toHaveLength(1);
    const given = dms()[0];
    if (given === undefined) throw new Error('no DM');
    second.catchUp = [given, { ...given, id: 'another', seq: 2, text: 'new' }];
    await first.kill();
    await expect.poll(() => events.filter((e) => e.type === 'synced')).toHaveLength(2);
    await expect.poll(() => dms().map((m) => m.text)).toEqual(['psst', 'new']);
    expect(second.handshakes.at(-1)).toMatchObject({ dms: { [given.conversation]: 1 } });
  });

  it('rejoins a room it has been in with the last seq seen there', async () => {
    cluster = new FakeCluster();
    const node = await cluster.start('n');
    const { chat, events } = client({ urls: [node.url], name: 'alice', room: 'dev' });
    void chat.run();
    await chat.ready;
    const bob = await connectPeer(node.url, { name: 'bob', room: 'dev' });
    peers.push(bob);
    bob.socket.emit('send', { text: 'one' }, () => undefined);
    await expect.poll(() => events.filter((e) => e.type === 'message')).toHaveLength(1);
    expect(await chat.send('mine')).toEqual({ ok: true, value: { ok: true, id: 'm2', seq: 2 } });

    expect(await chat.join('lobby')).toMatchObject({ ok: true, value: { room: 'lobby' } });
    expect(chat.room).toBe('lobby');
    expect(await chat.join('dev')).toMatchObject({ ok: true });
    expect(node.joins).toEqual([{ room: 'lobby' }, { room: 'dev', since: 2 }]);
  });

  it('stamps a first try with the broker generation it was told while connected', async () => {
    const { first, second, chat, events } = await aliceOnTwoNodes();
    // The cluster loses its records while alice stays connected, and says so.
    cluster.forgetRecords();
    cluster.tellGeneration();
    await chat.who(); // answered after the notice, on the same connection
    first.holdAcks = true; // stored now, in g2, but the ack never comes
    const sent = chat.send('after the loss');
    await expect.poll(() => first.sends.length).toBe(1);
    await first.kill();
    // The retry names g2, the generation of its first try: it is answered, not refused.
    await expect(sent).resolves.toMatchObject({ ok: true, value: { seq: 1 } });
    expect(second.sends).toEqual([
      expect.objectContaining({ text: 'after the loss', generation: 'g2' }),
    ]);
    expect(events.some((e) => e.type === 'welcome' && e.reconnected)).toBe(true);
  });

  it('reports a refused direct message without sending it again', async () => {
    cluster = new FakeCluster();
    const node = await cluster.start('n');
    const { chat } = client({ urls: [node.url] });
    void chat.run();
    expect(await chat.dm('nobody', 'hi')).toEqual({
      ok: false,
      error: chatError('USER_NOT_FOUND'),
    });
  });
});
