import { LIMITS } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, refused, texts, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

async function pair(overrides: Record<string, string> = {}) {
  nodes = await memoryCluster(2, overrides);
  const bad = await connect(at(nodes, 0).url, { name: 'mallory' });
  const good = await connect(at(nodes, 1).url, { name: 'good' });
  clients.push(bad, good);
  return { bad, good };
}

/** After the bad input, the cluster still serves: a message from mallory reaches good. */
async function stillServing(bad: TestClient, good: TestClient) {
  await bad.send('still works');
  await eventually(() => expect(texts(good)).toContain('still works'));
}

describe('bad input gets a coded error, changes nothing, and the server keeps serving', () => {
  it.each([
    ['send', null, 'BAD_REQUEST'],
    ['send', 42, 'BAD_REQUEST'],
    ['send', {}, 'BAD_REQUEST'],
    ['send', { text: 7 }, 'BAD_REQUEST'],
    ['send', { text: '' }, 'EMPTY_TEXT'],
    ['send', { text: ' \t\n ' }, 'EMPTY_TEXT'],
    ['send', { text: 'x'.repeat(LIMITS.maxTextLength + 1) }, 'TEXT_TOO_LONG'],
    ['send', { text: 'hi', room: 'x y' }, 'INVALID_ROOM'],
    ['send', { text: 'hi', cid: {} }, 'BAD_REQUEST'],
    ['join', { room: '' }, 'INVALID_ROOM'],
    ['join', { room: 'a'.repeat(LIMITS.maxRoomLength + 1) }, 'INVALID_ROOM'],
    ['join', { room: 'ok', since: 'yesterday' }, 'BAD_REQUEST'],
    ['join', [], 'BAD_REQUEST'],
    ['dm', { to: 'good' }, 'BAD_REQUEST'],
    ['dm', { to: 5, text: 'x' }, 'BAD_REQUEST'],
    ['dm', { to: 'nobody', text: 'x' }, 'USER_NOT_FOUND'],
    ['who', { room: '../../etc' }, 'INVALID_ROOM'],
    ['rooms', 'please', 'BAD_REQUEST'],
    ['nonsense', { text: 'hi' }, 'UNKNOWN_EVENT'],
  ])('%s %j -> %s', async (event, payload, code) => {
    const { bad, good } = await pair();
    const ack = await bad.request(event as 'send', payload);
    expect(ack).toEqual({
      ok: false,
      error: { code, message: expect.any(String), retryable: false },
    });
    await stillServing(bad, good);
    expect(texts(good)).toEqual(['still works']);
  });

  it('answers events sent without an ack callback with an error event', async () => {
    const { bad, good } = await pair();
    (bad.socket as unknown as { emit(event: string, payload: unknown): void }).emit('send', {
      text: '',
    });
    (bad.socket as unknown as { emit(event: string): void }).emit('launch-missiles');
    await eventually(() =>
      expect(bad.errors.map((e) => e.code).sort()).toEqual(['EMPTY_TEXT', 'UNKNOWN_EVENT']),
    );
    await stillServing(bad, good);
  });

  it('relays control characters and escape sequences intact (clients render them safely)', async () => {
    const { bad, good } = await pair();
    const hostile = 'hi \u001b[2J\u001b]0;pwned\u0007 \u202eevil\u0000 end';
    await bad.send(hostile);
    await eventually(() => expect(texts(good)).toEqual([hostile]));
  });

  it('closes a connection whose frame exceeds the buffer limit, and serves everyone else', async () => {
    const { bad, good } = await pair();
    const closed = new Promise<string>((resolve) => bad.socket.once('disconnect', resolve));
    bad.socket.emit('send', { text: 'x'.repeat(LIMITS.maxFrameBytes * 4) }, () => undefined);
    expect(await closed).toBe('transport close');
    const other = await connect(at(nodes, 0).url, { name: 'other' });
    clients.push(other);
    await other.send('after the oversized frame');
    await eventually(() => expect(texts(good)).toContain('after the oversized frame'));
  });

  it('refuses bad handshakes with coded errors', async () => {
    nodes = await memoryCluster(1);
    const url = at(nodes, 0).url;
    expect(await refused(url, { name: 'has space' })).toMatchObject({ code: 'INVALID_NAME' });
    expect(await refused(url, { name: 'User7' })).toMatchObject({ code: 'INVALID_NAME' });
    expect(await refused(url, { room: '#general' })).toMatchObject({ code: 'INVALID_ROOM' });
    expect(await refused(url, { v: 99 })).toMatchObject({ code: 'VERSION_MISMATCH' });
    expect(await refused(url, { since: -4 } as never)).toMatchObject({ code: 'BAD_REQUEST' });
    const raw = await refused(url, { raw: true, name: ['x'] as unknown as string });
    expect(raw).toMatchObject({ code: 'INVALID_NAME' });
  });

  it('refuses look-alike, case-folded and invisible names across nodes', async () => {
    nodes = await memoryCluster(2);
    const holders = ['Straße', 'sam', 'µx', 'carol', 'dave', 'office'];
    for (const name of holders) clients.push(await connect(at(nodes, 0).url, { name }));
    // Each of these was online beside its twin before names were compared by a Unicode key.
    for (const name of ['STRASSE', 'ſam', 'μx', 'саrol', 'ｄａｖｅ', 'oﬃce']) {
      expect(await refused(at(nodes, 1).url, { name })).toMatchObject({ code: 'NAME_TAKEN' });
    }
    for (const name of ['\u3164', 'bob\u200b', 'user١٢٣', 'user１２３']) {
      expect(await refused(at(nodes, 1).url, { name })).toMatchObject({ code: 'INVALID_NAME' });
    }
    const speaker = at(clients, 0);
    expect(await speaker.request('send', { text: '\u200b\u200b\u200b' })).toMatchObject({
      ok: false,
      error: { code: 'EMPTY_TEXT' },
    });
  });

  it('rate-limits a flooding user with one bucket shared by all their sessions on all nodes', async () => {
    nodes = await memoryCluster(2, { RATE_PER_SEC: '1', RATE_BURST: '5' });
    const first = await connect(at(nodes, 0).url, { name: 'flood' });
    const second = await connect(at(nodes, 1).url, { resume: first.welcome.resumeToken });
    const good = await connect(at(nodes, 1).url, { name: 'good' });
    clients.push(first, second, good);
    const acks = [];
    for (let i = 0; i < 8; i++) {
      acks.push(await (i % 2 === 0 ? first : second).request('send', { text: `f${i}` }));
    }
    expect(acks.filter((a) => a.ok)).toHaveLength(5);
    expect(acks.slice(5)).toEqual(
      Array.from({ length: 3 }, () => ({
        ok: false,
        error: { code: 'RATE_LIMITED', message: expect.any(String), retryable: true },
      })),
    );
    await eventually(() => expect(texts(good)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']));
    await good.send('unaffected');
  });

  it('cuts off a client that keeps sending into refusals; others are still served', async () => {
    nodes = await memoryCluster(1, { RATE_PER_SEC: '1', RATE_BURST: '5' });
    const flooder = await connect(at(nodes, 0).url, { name: 'flooder' });
    const good = await connect(at(nodes, 0).url, { name: 'good' });
    clients.push(flooder, good);
    const gone = new Promise<string>((resolve) => flooder.socket.once('disconnect', resolve));
    // 300 sends without waiting for acks: 5 stored, the rest refused, until the node has had
    // enough of refusing and ends the session instead of paying for each one.
    const acks = Array.from({ length: 300 }, (_, i) =>
      flooder.socket
        .timeout(5_000)
        .emitWithAck('send', { text: `f${i}` })
        .catch(() => undefined),
    );
    expect(await gone).toBe('io server disconnect');
    await eventually(() =>
      expect(flooder.errors).toContainEqual(
        expect.objectContaining({
          code: 'RATE_LIMITED',
          message: expect.stringMatching(/too many refused requests: disconnected/),
        }),
      ),
    );
    const answered = (await Promise.all(acks)).filter((a) => a !== undefined);
    expect(answered.filter((a) => a.ok)).toHaveLength(5);
    expect(answered.length).toBeLessThan(300);
    // The cut-off cost nobody else anything: another user's send is stored as usual.
    expect(await good.request('send', { text: 'still here' })).toMatchObject({ ok: true });
  });

  it('refuses a connection flood from one address with RATE_LIMITED', async () => {
    nodes = await memoryCluster(1, { CONN_RATE_PER_IP: '1', CONN_BURST_PER_IP: '3' });
    const url = at(nodes, 0).url;
    for (let i = 0; i < 3; i++) clients.push(await connect(url, { name: `c${i}` }));
    expect(await refused(url, { name: 'c3' })).toEqual({
      code: 'RATE_LIMITED',
      message: 'too many connections; slow down',
      retryable: true,
    });
  });
});
