import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openBareSocket, openBareSockets } from '../support/bare-socket';
import { connect, eventually, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];
const bare: Socket[] = [];

afterEach(async () => {
  for (const socket of bare.splice(0)) socket.destroy();
  await closeAll(clients, nodes);
});

interface Health {
  clients: number;
  engineSockets: number;
  waiting: number;
}

const health = async (node: RunningGateway): Promise<Health> =>
  (await (await fetch(`${node.url}/healthz`)).json()) as Health;

const readyz = async (node: RunningGateway) => {
  const res = await fetch(`${node.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { reason?: string } };
};

describe('Engine.IO admission (bare sockets that never join the chat)', () => {
  it('one address cannot fill the node: a client from another address is still served', async () => {
    // Issue #11 point 2, bounded: 150 bare websockets from one address against 100 slots.
    nodes = await memoryCluster(1, { MAX_CONNECTIONS: '100' });
    const node = at(nodes, 0);
    const attack = await openBareSockets(node.url, 150, '127.0.0.1');
    bare.push(...attack.open);

    const carol = await connect(node.url, { name: 'carol', localAddress: '127.0.0.2' });
    clients.push(carol);
    expect(carol.welcome.user.name).toBe('carol');
    expect(attack.open.length).toBeLessThanOrEqual(50);
    expect(attack.refused).toBeGreaterThanOrEqual(100);
    expect(await health(node)).toMatchObject({
      clients: 1,
      engineSockets: attack.open.length + 1,
      waiting: attack.open.length,
    });
  });

  it('closes sockets that do not join within CONNECT_TIMEOUT_MS, and says so in /healthz', async () => {
    nodes = await memoryCluster(1, { CONNECT_TIMEOUT_MS: '500' });
    const node = at(nodes, 0);
    const attack = await openBareSockets(node.url, 20, '127.0.0.1');
    bare.push(...attack.open);
    expect(attack.open).toHaveLength(20);
    expect(await health(node)).toMatchObject({ engineSockets: 20, waiting: 20, clients: 0 });
    await eventually(async () =>
      expect(await health(node)).toMatchObject({ engineSockets: 0, waiting: 0 }),
    );
  });

  it('reports a full node as unready ("full") instead of ready with no clients', async () => {
    nodes = await memoryCluster(1, { MAX_CONNECTIONS: '4', CONNECT_TIMEOUT_MS: '60000' });
    const node = at(nodes, 0);
    for (const address of ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6']) {
      const outcome = await openBareSocket(node.url, address);
      if (!outcome.open) throw new Error(`refused with ${outcome.status}`);
      bare.push(outcome.socket);
    }
    expect(await readyz(node)).toMatchObject({ status: 503, body: { reason: 'full' } });
    expect(await health(node)).toMatchObject({ engineSockets: 4, clients: 0 });
    for (const socket of bare.splice(0)) socket.destroy();
    await eventually(async () => expect((await readyz(node)).status).toBe(200));
  });

  it('gives a joined client’s slot back when it leaves (the node keeps no upgrade request)', async () => {
    nodes = await memoryCluster(1, { MAX_CONNECTIONS: '2' });
    const node = at(nodes, 0);
    const first = await connect(node.url, { name: 'first' });
    const second = await connect(node.url, { name: 'second' });
    expect(await readyz(node)).toMatchObject({ status: 503, body: { reason: 'full' } });
    first.close();
    second.close();
    await eventually(async () => expect(await health(node)).toMatchObject({ engineSockets: 0 }));
    expect((await readyz(node)).status).toBe(200);
    clients.push(await connect(node.url, { name: 'third' }));
  });
});
