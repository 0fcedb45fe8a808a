import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli';
import { FakeCluster, type FakeNode } from './support/fake-cluster';
import { connectPeer, type Peer } from './support/peer';

// The real CLI in pipe mode losing its node mid-session: it must move to the next --url,
// resume as the same user from where it was, and deliver every line exactly once, in order.

let cluster: FakeCluster;
let peers: Peer[] = [];
let clis: CliProcess[] = [];

afterEach(async () => {
  peers.forEach((p) => p.close());
  clis.forEach((c) => c.kill());
  peers = [];
  clis = [];
  await cluster.close();
});

async function twoNodes(): Promise<{ a: FakeNode; b: FakeNode; bob: Peer; alice: CliProcess }> {
  cluster = new FakeCluster();
  const a = await cluster.start('node-a');
  const b = await cluster.start('node-b');
  const bob = await connectPeer(b.url, { name: 'bob' });
  const alice = runCli(['--url', a.url, '--url', b.url, '--name', 'alice']);
  peers.push(bob);
  clis.push(alice);
  await alice.waitForLine('You joined as alice (id 2, node node-a)');
  bob.socket.emit('send', { text: 'before' }, () => undefined);
  await alice.waitForLine('[bob] before');
  return { a, b, bob, alice };
}

describe('fail-over', () => {
  it('moves to the next URL when its node dies, resending the unacked line with its cid', async () => {
    const { a, b, bob, alice } = await twoNodes();
    a.holdAcks = true;
    alice.write('in flight');
    await bob.until(() => expect(bob.texts()).toEqual(['in flight']));

    await a.kill();
    await alice.waitForLine('Reconnected as alice (id 2, node node-b)');
    // node-b also saw bob's own handshake and send; the CLI's are the ones after those.
    const resent = (): string[] => b.sends.slice(1).map((s) => s.text);
    await bob.until(() => expect(resent()).toEqual(['in flight']));
    expect(b.sends[1]?.cid).toBe(a.sends[0]?.cid);
    expect(a.sends[0]?.cid).toMatch(/^.+-1$/);
    expect(b.handshakes.slice(1)).toEqual([
      {
        v: 1,
        name: 'alice',
        room: 'lobby',
        batch: true,
        resume: expect.stringMatching(/^resume-2-/),
        since: 1, // bob's "before"; our own unacked line is not counted as seen
      },
    ]);

    alice.write('after');
    await bob.until(() => expect(bob.texts()).toEqual(['in flight', 'after']));
    alice.end();
    expect(await alice.exited).toBe(0);
    expect(cluster.history('lobby').map((m) => m.text)).toEqual(['before', 'in flight', 'after']);
    expect(alice.stdout).toEqual([
      'You joined as alice (id 2, node node-a)',
      '[bob] before',
      'Reconnected as alice (id 2, node node-b)',
    ]);
    expect(alice.stderr).toEqual([
      expect.stringMatching(new RegExp(`^! lost connection to ${a.url} \\(.+\\), reconnecting$`)),
    ]);
  }, 20_000);

  it('does not resend a line whose records the cluster lost meanwhile, and says it is not sure it was sent', async () => {
    const { a, b, bob, alice } = await twoNodes();
    a.holdAcks = true;
    alice.write('in flight');
    await bob.until(() => expect(bob.texts()).toEqual(['in flight']));
    // Its ack never comes; then the cluster loses its records, and its node dies.
    cluster.forgetRecords();
    await a.kill();
    await alice.waitForLine('Reconnected as alice (id 2, node node-b)');
    const line =
      '! not sure "in flight" was sent: the server lost its records; send it again if it did not arrive';
    await bob.until(() => expect(alice.stderr).toContain(line));
    // The one retry carried the generation of the first try, and was not stored again.
    expect(b.sends.slice(1)).toEqual([
      { text: 'in flight', room: 'lobby', cid: a.sends[0]?.cid, generation: 'g1' },
    ]);
    alice.write('after');
    await bob.until(() => expect(bob.texts()).toEqual(['in flight', 'after']));
    alice.end();
    expect(await alice.exited).toBe(1); // a piped line was refused
    expect(b.sends.slice(1).map((s) => s.text)).toEqual(['in flight', 'after']);
    expect(cluster.history('lobby').map((m) => m.text)).toEqual(['before', 'in flight', 'after']);
  }, 20_000);

  it('treats a draining node as going away and resumes on the next one', async () => {
    const { a, b, bob, alice } = await twoNodes();
    const started = Date.now();
    await a.drain(5_000, 10_000); // resolves once the client has left node-a
    expect(Date.now() - started).toBeLessThan(5_000);
    await alice.waitForLine('Reconnected as alice (id 2, node node-b)');
    // It left like a dropped connection, not a quit: nobody was told alice left.
    expect(bob.events.filter(([event]) => event === 'left')).toEqual([]);
    expect(alice.stderr).toEqual([
      `! lost connection to ${a.url} (the node is draining), reconnecting`,
    ]);
    expect(b.handshakes.slice(1)).toEqual([expect.objectContaining({ since: 1, room: 'lobby' })]);
    bob.socket.emit('send', { text: 'welcome back' }, () => undefined);
    await alice.waitForLine('[bob] welcome back');
    alice.end();
    expect(await alice.exited).toBe(0);
  }, 20_000);

  it('keeps retrying a single URL and sends what was typed meanwhile once it is back', async () => {
    cluster = new FakeCluster();
    const a = await cluster.start('node-a');
    const port = Number(new URL(a.url).port);
    const alice = runCli(['--url', a.url, '--name', 'alice']);
    clis.push(alice);
    await alice.waitForLine('You joined as alice (id 1, node node-a)');
    await a.kill();
    for (const text of ['one', 'two', 'three']) alice.write(text);
    alice.end();

    const back = await cluster.start('node-a2', port);
    const bob = await connectPeer(back.url, { name: 'bob' });
    peers.push(bob);
    expect(await alice.exited).toBe(0);
    expect(alice.stdout).toEqual([
      'You joined as alice (id 1, node node-a)',
      'Reconnected as alice (id 1, node node-a2)',
    ]);
    await bob.until(() => expect(bob.texts()).toEqual(['one', 'two', 'three']));
  }, 20_000);
});
