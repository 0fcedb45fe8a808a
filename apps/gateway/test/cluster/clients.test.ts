import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, texts, type ClientSocket, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

async function open(node: number, name: string, room?: string): Promise<TestClient> {
  const client = await connect(at(nodes, node).url, room ? { name, room } : { name });
  clients.push(client);
  return client;
}

/** Stops reading from the server: the TCP socket under the client's WebSocket is paused. */
function stopReading(socket: ClientSocket): void {
  const engine = socket.io.engine as unknown as {
    transport?: { ws?: { _socket?: { pause(): void } } };
  };
  const tcp = engine.transport?.ws?._socket;
  if (!tcp) throw new Error('no TCP socket under this client');
  tcp.pause();
}

async function metric(node: RunningGateway, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

describe('slow consumers', () => {
  it('cuts off a client that stops reading, while everyone else gets everything', async () => {
    nodes = await memoryCluster(1, { MAX_BUFFERED_KB: '64' });
    const node = at(nodes, 0);
    const sender = await open(0, 'sender');
    const reader = await open(0, 'reader');
    const slow = await open(0, 'slow');
    stopReading(slow.socket);
    // Enough to overflow the kernel's socket buffers on loopback (several MB) and then the bound.
    const text = 'x'.repeat(1_900);
    const sent: string[] = [];
    for (let i = 0; i < 8_000; i++) sent.push(`${i} ${text}`);
    for (let i = 0; i < sent.length; i += 100) {
      await Promise.all(sent.slice(i, i + 100).map((t) => sender.send(t)));
    }
    await eventually(() => expect(texts(reader)).toHaveLength(sent.length), 30_000);
    expect(texts(reader)).toEqual(sent);
    await eventually(async () =>
      expect(await metric(node, 'chat_slow_consumers_dropped_total')).toBe(1),
    );
    await eventually(async () => expect(await metric(node, 'chat_connected_clients')).toBe(2));
    await eventually(() => expect(sender.lines).toContain('slow left'), 5_000);
  });
});

describe('a client flapping 100 times', () => {
  it('leaves no state behind: presence, names, subscriptions and locks are all released', async () => {
    nodes = await memoryCluster(2, { LEAVE_GRACE_MS: '0' });
    const watcher = await open(1, 'watcher', 'flap');
    for (let i = 0; i < 100; i++) {
      const flapper = await connect(at(nodes, i % 2).url, { name: 'flapper', room: 'flap' });
      if (i % 2 === 0) flapper.close();
      else flapper.socket.io.engine.close();
      await eventually(() => expect(watcher.left).toHaveLength(i + 1));
    }
    expect(watcher.lines.filter((l) => l.startsWith('flapper'))).toEqual(
      Array.from({ length: 100 }, () => ['flapper joined', 'flapper left']).flat(),
    );
    expect(await watcher.request('who', {})).toMatchObject({
      ok: true,
      members: [{ name: 'watcher' }],
    });
    expect(await watcher.request('rooms', {})).toEqual({
      ok: true,
      rooms: [{ room: 'flap', members: 1 }],
    });
    const health = await (await fetch(`${at(nodes, 0).url}/healthz`)).json();
    expect(health).toMatchObject({ clients: 0 });
    const again = await open(0, 'flapper', 'flap');
    expect(again.welcome.user.name).toBe('flapper');
  });
});
