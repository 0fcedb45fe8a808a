import type { ChatMessage } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { closeAll, at, memoryCluster, type RunningGateway } from '../support/cluster';

let nodes: RunningGateway[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  await closeAll(clients, nodes);
});

async function open(node: number, name: string, batch: boolean): Promise<TestClient> {
  const client = await connect(at(nodes, node).url, { name, batch });
  clients.push(client);
  return client;
}

/** Keeps this process' event loop (and so the in-process gateway's) working for `ms`. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose.
  }
}

/** The seq of the last message a client had received when it saw `line`. */
function seqBefore(client: TestClient, line: string): number {
  let seq = 0;
  const messages = [...client.messages];
  for (const entry of client.lines) {
    if (entry === line) return seq;
    if (entry.startsWith('[')) seq = (messages.shift() as ChatMessage).seq;
  }
  throw new Error(`${line} not seen`);
}

describe('batched delivery (auth.batch)', () => {
  it('gives batch and per-message clients the same messages in the same order, notices included', async () => {
    nodes = await memoryCluster(2);
    const a = await open(0, 'a', true);
    const b = await open(0, 'b', false);
    const c = await open(1, 'c', true);
    const d = await open(1, 'd', false);
    const sends = (client: TestClient, prefix: string) =>
      Promise.all(Array.from({ length: 100 }, (_, i) => client.send(`${prefix}${i}`)));
    const late = (async () => {
      await eventually(() => expect(c.messages.length).toBeGreaterThan(50));
      clients.push(await connect(at(nodes, 0).url, { name: 'late' }));
    })();
    await Promise.all([sends(a, 'a'), sends(b, 'b'), late]);
    await eventually(() => expect(c.messages).toHaveLength(200));
    await eventually(() => expect(d.messages).toHaveLength(200));
    const seqs = c.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(d.messages.map((m) => m.seq)).toEqual(seqs);
    await eventually(() => expect(a.messages).toHaveLength(100));
    await eventually(() => expect(b.messages).toHaveLength(100));
    expect(texts(a)).toEqual(Array.from({ length: 100 }, (_, i) => `b${i}`));
    expect(texts(b)).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`));
    // The notice may trail the last message when the late client's join was slow.
    for (const client of [a, c, d]) {
      await eventually(() => expect(client.lines).toContain('late joined'));
    }
    expect(seqBefore(c, 'late joined')).toBe(seqBefore(d, 'late joined'));
    expect(seqBefore(a, 'late joined')).toBeLessThanOrEqual(seqBefore(c, 'late joined'));
  });

  it('coalesces messages into one frame per window while the node is busy, in order', async () => {
    nodes = await memoryCluster(1, { BATCH_WINDOW_MS: '100' });
    const talker = await open(0, 'talker', false);
    const batches: ChatMessage[][] = [];
    const reader = await open(0, 'reader', true);
    reader.socket.on('messages', (batch) => batches.push(batch));
    // The node shares this process: keeping its event loop working most of the time makes it
    // busy, as a loaded gateway is (a room's rate alone never opens the window).
    const sent = Array.from({ length: 60 }, (_, i) => `m${i}`);
    for (const text of sent) {
      await talker.send(text);
      burn(8);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await eventually(() => expect(texts(reader)).toEqual(sent));
    // Unbatched this would be 60 frames; busy, they go out about once per 100 ms.
    expect(batches.length).toBeLessThan(30);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(3);
  });

  it('sends each message at once while the node is idle, however busy the room', async () => {
    nodes = await memoryCluster(1, { BATCH_WINDOW_MS: '100' });
    const talker = await open(0, 'talker', false);
    const batches: ChatMessage[][] = [];
    const reader = await open(0, 'reader', true);
    reader.socket.on('messages', (batch) => batches.push(batch));
    // 100 messages/s: ten per window, which a per-room rate threshold would have batched.
    const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
    for (const text of sent) {
      await talker.send(text);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await eventually(() => expect(texts(reader)).toEqual(sent));
    expect(batches.map((b) => b.length)).toEqual(sent.map(() => 1));
  });

  it('sends history and replays as batches flagged history', async () => {
    nodes = await memoryCluster(1);
    const talker = await open(0, 'talker', false);
    for (let i = 0; i < 5; i++) await talker.send(`h${i}`);
    const batches: ChatMessage[][] = [];
    const reader = await connect(at(nodes, 0).url, { name: 'reader', batch: true });
    clients.push(reader);
    reader.socket.on('messages', (batch) => batches.push(batch));
    expect(texts(reader)).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
    expect(reader.messages.every((m) => m.history)).toBe(true);
    await talker.send('live');
    await eventually(() => expect(batches.flat().map((m) => m.text)).toEqual(['live']));
  });
});
