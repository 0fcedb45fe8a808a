import { useGatewayCluster, type GatewayProcess } from '@chat/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli';

// End to end across a real cluster: Redis in Docker, two real gateway processes, and two CLI
// processes in pipe mode on different nodes. What each prints is what a user would see.

const cluster = useGatewayCluster({
  env: { LOG_LEVEL: 'warn', DRAIN_TIMEOUT_MS: '2000' },
  cleanup: 'all',
});
const gateways = cluster.processes;
const clis: CliProcess[] = [];

beforeAll(async () => {
  await cluster.startMany(['gw-a', 'gw-b']);
}, 120_000);

afterAll(() => {
  clis.forEach((cli) => cli.kill());
});

function chat(gateway: GatewayProcess, name: string, ...more: string[]): CliProcess {
  const cli = runCli(['--url', gateway.url, '--name', name, ...more]);
  clis.push(cli);
  return cli;
}

describe('two CLIs on two gateways sharing Redis', () => {
  it('see each other join, talk in order, never see themselves, and see each other leave', async () => {
    const [a, b] = gateways;
    if (a === undefined || b === undefined) throw new Error('gateways did not start');
    const alice = chat(a, 'alice');
    await alice.waitForLine(/^You joined as alice \(id \d+, node gw-a\)$/);
    const bob = chat(b, 'bob');
    await bob.waitForLine(/^You joined as bob \(id \d+, node gw-b\)$/);
    await alice.waitForLine('bob joined');

    // alice steps out and back in, so bob sees her arrive too.
    alice.write('/join dev');
    await alice.waitForLine('Now in #dev');
    alice.write('/join lobby');
    await alice.waitForLine('Now in #lobby');
    await bob.waitForLine('alice joined');

    const sent = (who: string) => [1, 2, 3, 4, 5].map((n) => `${who} says ${n}`);
    for (let i = 0; i < 5; i++) {
      alice.write(sent('alice')[i] ?? '');
      bob.write(sent('bob')[i] ?? '');
    }
    await alice.waitForLine('[bob] bob says 5', 20_000);
    await bob.waitForLine('[alice] alice says 5', 20_000);

    bob.end();
    expect(await bob.exited).toBe(0);
    await alice.waitForLine('bob left');
    alice.end();
    expect(await alice.exited).toBe(0);

    expect(alice.stdout).toEqual([
      expect.stringMatching(/^You joined as alice /),
      'bob joined',
      'Now in #dev',
      'Now in #lobby',
      ...sent('bob').map((text) => `[bob] ${text}`),
      'bob left',
    ]);
    expect(bob.stdout).toEqual([
      expect.stringMatching(/^You joined as bob /),
      'alice left (moved to #dev)',
      'alice joined',
      ...sent('alice').map((text) => `[alice] ${text}`),
    ]);
    expect(alice.stderr).toEqual([]);
    expect(bob.stderr).toEqual([]);
  }, 60_000);

  it.each([
    ['crashes', (gateway: GatewayProcess) => gateway.crash()],
    ['drains', (gateway: GatewayProcess) => gateway.stop()],
  ])(
    'moves to the other gateway when its node %s, delivering every line once, in order',
    async (how, stop) => {
      const [, b] = gateways;
      if (b === undefined) throw new Error('cluster did not start');
      const doomed = await cluster.start(`gw-${how}`);
      // A room of its own, so history from other tests stays out of it.
      const carol = chat(doomed, `carol-${how}`, '--url', b.url, '--room', how);
      const welcome = await carol.waitForLine(new RegExp(`^You joined as carol-${how} `));
      const dave = chat(b, `dave-${how}`, '--room', how);
      await dave.waitForLine(/^You joined as dave/);

      const lines = Array.from({ length: 20 }, (_, n) => `line ${n + 1}`);
      lines.slice(0, 10).forEach((line) => carol.write(line));
      await dave.waitForLine('[carol-' + how + '] line 3');
      await stop(doomed);
      lines.slice(10).forEach((line) => carol.write(line));
      await carol.waitForLine(
        welcome.replace('You joined as', 'Reconnected as').replace(`gw-${how}`, 'gw-b'),
        20_000,
      );
      await dave.waitForLine(`[carol-${how}] line 20`, 20_000);
      carol.end();
      expect(await carol.exited).toBe(0);
      await dave.waitForLine(`carol-${how} left`);
      dave.end();
      expect(await dave.exited).toBe(0);

      expect(dave.stdout).toEqual([
        expect.stringMatching(/^You joined as dave/),
        ...lines.map((line) => `[carol-${how}] ${line}`),
        `carol-${how} left`,
      ]);
    },
    60_000,
  );
});
