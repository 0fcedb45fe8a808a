import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runTerminal } from '../src/terminal';
import { FakeCluster } from './support/fake-cluster';
import { connectPeer, type Peer } from './support/peer';

// Terminal mode in-process (stdout is not a screen, so lines are plain and there is no prompt
// to redraw), against a fake gateway: the lines a person sees that pipe mode does not show.

let cluster: FakeCluster;
const peers: Peer[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  await cluster.close();
});

/** Collects a stream's lines. */
function lines(): { stream: NodeJS.WriteStream; lines: string[] } {
  const collected: string[] = [];
  const stream = new PassThrough();
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    collected.push(...parts);
  });
  // runTerminal only asks a stdout whether it is a screen.
  return {
    stream: Object.assign(stream, { isTTY: false }) as unknown as NodeJS.WriteStream,
    lines: collected,
  };
}

function terminal(url: string, name: string) {
  const stdin = new PassThrough();
  const stdout = lines();
  const stderr = lines();
  const exited = runTerminal(
    { urls: [url], name },
    { stdin, stdout: stdout.stream, stderr: stderr.stream, env: { NO_COLOR: '1' } },
    new AbortController().signal,
  );
  return {
    type: (line: string) => stdin.write(`${line}\n`),
    out: stdout.lines,
    err: stderr.lines,
    exited,
    see: (where: string[], line: string | RegExp, timeout = 10_000) =>
      vi.waitFor(
        () =>
          expect(where.some((l) => (typeof line === 'string' ? l === line : line.test(l)))).toBe(
            true,
          ),
        { timeout },
      ),
  };
}

describe('terminal mode', () => {
  it(
    'marks history, confirms DMs, formats refusals, shows waiting lines and says goodbye',
    { timeout: 40_000 },
    async () => {
      cluster = new FakeCluster();
      const node = await cluster.start('node-a');
      const port = Number(new URL(node.url).port);
      const bob = await connectPeer(node.url, { name: 'bob' });
      peers.push(bob);
      await new Promise((resolve) => bob.socket.emit('send', { text: 'before you came' }, resolve));

      const alice = terminal(node.url, 'alice');
      await alice.see(alice.out, '(earlier) [bob] before you came');
      expect(alice.out[0]).toMatch(/^You joined as alice \(id \d+, node node-a\)$/);

      alice.type('/msg bob psst');
      await alice.see(alice.out, '[DM to bob] psst');
      await bob.until(() =>
        expect(bob.events).toContainEqual(['dm', expect.objectContaining({ text: 'psst' })]),
      );

      alice.type('/join Bad Room!');
      await alice.see(
        alice.err,
        "error: room must be 1-32 of a-z, 0-9, '_', '-', starting with a letter or digit (INVALID_ROOM)",
      );

      // The node stops answering, then dies; the line waits, and goes out once a node is back.
      node.holdAcks = true;
      alice.type('held line');
      await alice.see(alice.err, '… waiting to send: held line');
      await node.kill();
      await alice.see(alice.err, /^! lost connection to /);
      alice.type('typed offline');
      await alice.see(alice.err, '… waiting to send: typed offline');
      await cluster.start('node-b', port);
      await alice.see(alice.err, '… sent: held line', 20_000);
      await alice.see(alice.err, '… sent: typed offline');
      expect(cluster.history('lobby').map((m) => m.text)).toEqual([
        'before you came',
        'held line',
        'typed offline',
      ]);

      alice.type('/quit');
      expect(await alice.exited).toBe(0);
      expect(alice.out.at(-1)).toBe('Bye! You have left the chat.');
    },
  );
});
