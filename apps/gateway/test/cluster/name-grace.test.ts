import { PROTOCOL_VERSION, type ChatError } from '@chat/protocol';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

const GRACE_MS = 2_000;
let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

/** Drops the connection without a goodbye packet, as a lost network (or python-socketio) does. */
function drop(client: TestClient): void {
  client.socket.io.engine.close();
}

/** A refusal for a client claiming `name` from `address` (X-Forwarded-For, TRUST_PROXY on). */
function refusedFrom(url: string, name: string, address: string): Promise<ChatError> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { 'x-forwarded-for': address },
    auth: { v: PROTOCOL_VERSION, name },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect_error', (error) => {
      socket.close();
      resolve((error as Error & { data: ChatError }).data);
    });
    socket.once('connect', () => {
      socket.close();
      reject(new Error('the connection was accepted'));
    });
  });
}

describe('NAME_TAKEN by your own dropped connection', () => {
  it('says the name is held by your previous connection, retryable after the grace period', async () => {
    nodes = await memoryCluster(2, { LEAVE_GRACE_MS: String(GRACE_MS) });
    const alice = await connect(at(nodes, 0).url, { name: 'alice' });
    drop(alice);

    let refusal: ChatError | undefined;
    await eventually(async () => {
      refusal = await refused(at(nodes, 1).url, { name: 'alice' });
      // Before: { code: 'NAME_TAKEN', retryable: false }, so a client gave up for good.
      expect(refusal).toMatchObject({ code: 'NAME_TAKEN', retryable: true });
    });
    expect(refusal?.message).toMatch(/held by your previous connection for up to \d s/);
    expect(refusal?.retryInMs).toBeGreaterThan(0);
    expect(refusal?.retryInMs).toBeLessThanOrEqual(GRACE_MS);

    // Retrying as told gets the name back.
    await eventually(async () => {
      clients.push(await connect(at(nodes, 1).url, { name: 'alice' }));
    }, GRACE_MS + 5_000);
  });

  it('tells a client from another address only that the name is taken', async () => {
    nodes = await memoryCluster(1, { LEAVE_GRACE_MS: String(GRACE_MS), TRUST_PROXY: 'true' });
    const url = at(nodes, 0).url;
    const alice = await connect(url, { name: 'alice' });
    drop(alice);
    // Alice came from 127.0.0.1 (no X-Forwarded-For): from there the refusal is retryable.
    await eventually(async () => {
      expect(await refused(url, { name: 'alice' })).toMatchObject({ retryable: true });
    });
    const stranger = await refusedFrom(url, 'alice', '10.0.0.2');
    expect(stranger).toMatchObject({ code: 'NAME_TAKEN', retryable: false });
    expect(stranger.retryInMs).toBeUndefined();
  });
});
