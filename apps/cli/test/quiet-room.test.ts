import { quietText } from '@chat/protocol';
import { spawnGateway, stopProcesses, type GatewayProcess } from '@chat/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli';
import { connectPeer, type Peer } from './support/peer';

// The real CLI in pipe mode against a real gateway (embedded broker) whose rooms go quiet above
// two members: what a user sees as a room grows past that size and shrinks back.

const LARGE = quietText('lobby', true);
const SMALL = quietText('lobby', false);

let gateway: GatewayProcess;
const peers: Peer[] = [];
const clis: CliProcess[] = [];

beforeAll(async () => {
  gateway = await spawnGateway({ PRESENCE_QUIET_ABOVE: '2', LOG_LEVEL: 'warn' });
}, 60_000);

afterAll(async () => {
  for (const p of peers) p.close();
  for (const c of clis) c.kill();
  await stopProcesses([gateway]);
});

function cli(name: string): CliProcess {
  const child = runCli(['--url', gateway.url, '--name', name]);
  clis.push(child);
  return child;
}

async function peer(name: string): Promise<Peer> {
  const p = await connectPeer(gateway.url, { name });
  peers.push(p);
  return p;
}

describe('a room above PRESENCE_QUIET_ABOVE members', () => {
  it('is announced as large once, then shows no joins or leaves until it is small again', async () => {
    const alice = cli('alice');
    await alice.waitForLine(/^You joined as alice /);
    const bob = await peer('bob');
    await alice.waitForLine('bob joined');
    const carol = await peer('carol');
    await alice.waitForLine(LARGE);

    // A newcomer to the large room is told at once; the others hear nothing of it.
    const dave = cli('dave');
    await dave.waitForLine(LARGE);
    dave.write('/who');
    await dave.waitForLine(/^Members of #lobby \(4\): /);

    dave.end();
    expect(await dave.exited).toBe(0);
    carol.close();
    await alice.waitForLine(SMALL);
    bob.close();
    await alice.waitForLine('bob left');
    alice.end();
    expect(await alice.exited).toBe(0);
    expect(alice.stdout).toEqual([
      expect.stringMatching(/^You joined as alice /),
      'bob joined',
      'carol joined',
      LARGE,
      'carol left',
      SMALL,
      'bob left',
    ]);
    expect(dave.stdout).toEqual([
      expect.stringMatching(/^You joined as dave /),
      LARGE,
      expect.stringMatching(/^Members of #lobby \(4\): /),
    ]);
  }, 60_000);
});
