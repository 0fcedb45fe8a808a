import { chatError, LIMITS } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli';
import { FakeCluster, type FakeNode } from './support/fake-cluster';
import { connectPeer, type Peer } from './support/peer';

// The real CLI as a child process in pipe mode, against a fake gateway: what a script sees.

let cluster: FakeCluster;
const peers: Peer[] = [];
const clis: CliProcess[] = [];

async function setup(): Promise<FakeNode> {
  cluster = new FakeCluster();
  return cluster.start('node-a');
}

function cli(args: string[]): CliProcess {
  const child = runCli(args);
  clis.push(child);
  return child;
}

async function peer(url: string, name: string): Promise<Peer> {
  const p = await connectPeer(url, { name });
  peers.push(p);
  return p;
}

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  for (const c of clis.splice(0)) c.kill();
  await cluster.close();
});

describe('pipe mode', () => {
  it('sends stdin lines in order, prints what others do, and exits 0 once all are acked', async () => {
    const { url } = await setup();
    const bob = await peer(url, 'bob');
    const alice = cli(['--url', url, '--name', 'alice']);
    await alice.waitForLine('You joined as alice (id 2, node node-a)');
    await bob.until(() => expect(bob.events).toContainEqual(['joined', expect.anything()]));

    for (const text of ['one', 'two', '   ', 'three']) alice.write(text);
    await bob.until(() => expect(bob.texts()).toEqual(['one', 'two', 'three']));

    bob.socket.emit('send', { text: 'hi alice' }, () => undefined);
    await alice.waitForLine('[bob] hi alice');
    bob.socket.emit('dm', { to: 'alice', text: 'psst' }, () => undefined);
    await alice.waitForLine('[DM from bob] psst');

    alice.end();
    expect(await alice.exited).toBe(0);
    expect(alice.stdout).toEqual([
      'You joined as alice (id 2, node node-a)',
      '[bob] hi alice',
      '[DM from bob] psst',
    ]);
    expect(alice.stderr).toEqual([]);
    await bob.until(() =>
      expect(bob.events.at(-1)).toEqual([
        'left',
        { room: 'lobby', user: { id: 2, name: 'alice' }, reason: 'quit' },
      ]),
    );
  }, 20_000);

  it('prints presence and history, and carries out slash commands in input order', async () => {
    const { url } = await setup();
    const bob = await peer(url, 'bob');
    bob.socket.emit('send', { text: 'before you came' }, () => undefined);
    await bob.until(() => expect(cluster.history('lobby')).toHaveLength(1));

    const alice = cli(['--url', url, '--name', 'alice']);
    await alice.waitForLine('[bob] before you came');
    await peer(url, 'carol');
    await alice.waitForLine('carol joined');
    bob.close();
    await alice.waitForLine('bob left');
    alice.write('/join dev');
    alice.write('in dev');
    alice.write('/who');
    alice.write('/msg nobody hello');
    alice.write('/frobnicate');
    alice.end();
    expect(await alice.exited).toBe(1);
    expect(alice.stdout).toEqual([
      'You joined as alice (id 2, node node-a)',
      '[bob] before you came',
      'carol joined',
      'bob left',
      'Now in #dev',
      'Members of #dev (1): alice (you)',
    ]);
    expect(alice.stderr).toEqual([
      'unknown command /frobnicate (type /help for the list)',
      'error: no such user online (USER_NOT_FOUND)',
    ]);
    expect(cluster.history('dev').map((m) => m.text)).toEqual(['in dev']);
  }, 20_000);

  it('reports a refused line on stderr, goes on with the rest, and exits 1', async () => {
    const { url } = await setup();
    const bob = await peer(url, 'bob');
    const alice = cli(['--url', url, '--name', 'alice']);
    alice.write('first');
    alice.write('x'.repeat(LIMITS.maxTextLength + 1));
    alice.write('last');
    alice.end();
    expect(await alice.exited).toBe(1);
    expect(alice.stderr).toEqual([
      'error: message text is longer than 2000 characters (TEXT_TOO_LONG)',
    ]);
    expect(bob.texts()).toEqual(['first', 'last']);
  }, 20_000);

  it('retries a rate-limited line without letting later lines overtake it', async () => {
    const node = await setup();
    const url = node.url;
    node.rateLimit = 3;
    const bob = await peer(url, 'bob');
    const alice = cli(['--url', url, '--name', 'alice']);
    for (const text of ['a', 'b', 'c']) alice.write(text);
    alice.end();
    expect(await alice.exited).toBe(0);
    expect(alice.stderr).toEqual([]);
    expect(bob.texts()).toEqual(['a', 'b', 'c']);
    expect(node.sends.map((s) => s.text)).toEqual(['a', 'a', 'a', 'a', 'b', 'c']);
  }, 20_000);

  it('shows hostile names and text as visible escapes, one line per event', async () => {
    const { url } = await setup();
    const alice = cli(['--url', url, '--name', 'alice']);
    await alice.waitForLine(/^You joined as alice/);
    const evil = await peer(url, 'mallory');
    evil.socket.emit('send', { text: 'a\x1b[2J\x07b\nc\u202ed\u0085e' }, () => undefined);
    await alice.waitForLine('[mallory] a\\x1b[2J\\x07b\\nc\\u202ed\\x85e');
    alice.end();
    expect(await alice.exited).toBe(0);
    const bytes = alice.stdoutBytes();
    const controls = [...bytes].filter((b) => b < 0x20 && b !== 0x0a);
    expect(controls).toEqual([]);
  }, 20_000);
});

describe('refusals', () => {
  it('exits 2 with the gateway’s reason, without retrying, when the name is taken', async () => {
    const node = await setup();
    await peer(node.url, 'alice');
    const alice = cli(['--url', node.url, '--name', 'Alice']);
    expect(await alice.exited).toBe(2);
    expect(alice.stderr).toEqual(['error: name is taken (NAME_TAKEN)']);
    expect(alice.stdout).toEqual([]);
    expect(node.handshakes).toHaveLength(2); // the peer's and one from the CLI
  }, 20_000);

  it('never loops on a non-retryable refusal even with several URLs', async () => {
    const { url } = await setup();
    const other = await cluster.start('node-b');
    for (const node of cluster.nodes) node.rejectWith = chatError('UNAUTHORIZED');
    const alice = cli(['--url', url, '--url', other.url]);
    expect(await alice.exited).toBe(2);
    expect(alice.stderr).toEqual(['error: authentication failed (UNAUTHORIZED)']);
    expect(cluster.nodes.map((n) => n.handshakes.length)).toEqual([1, 0]);
  }, 20_000);

  it('exits 1 with a clear message when no URL answers', async () => {
    cluster = new FakeCluster();
    const dead = await cluster.start('gone');
    await dead.kill();
    const alice = cli(['--url', dead.url, '--url', 'http://127.0.0.1:1']);
    expect(await alice.exited).toBe(1);
    expect(alice.stderr).toHaveLength(1);
    expect(alice.stderr[0]).toMatch(
      new RegExp(`^error: no gateway reachable \\(${dead.url}: .+; http://127.0.0.1:1: .+\\)$`),
    );
  }, 20_000);

  it('exits 2 and explains a bad --url without connecting anywhere', async () => {
    cluster = new FakeCluster();
    const alice = cli(['--url', 'localhost:3000']);
    expect(await alice.exited).toBe(2);
    expect(alice.stderr).toEqual(['error: --url "localhost:3000" must use http, https, ws or wss']);
  }, 20_000);
});
