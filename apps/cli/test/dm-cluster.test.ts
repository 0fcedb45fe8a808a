import { useGatewayCluster, type GatewayProcess } from '@chat/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli';

// Private conversations end to end: Redis in Docker, real gateway processes, real CLIs in pipe
// mode. What each prints is what a user sees.

const cluster = useGatewayCluster({ env: { LOG_LEVEL: 'warn' }, cleanup: 'all' });
const clis: CliProcess[] = [];

beforeAll(async () => {
  await cluster.startMany(['gw-a', 'gw-b']);
}, 120_000);

afterAll(() => {
  clis.forEach((cli) => cli.kill());
});

function chat(urls: GatewayProcess[], name: string): CliProcess {
  const cli = runCli([...urls.flatMap((g) => ['--url', g.url]), '--name', name]);
  clis.push(cli);
  return cli;
}

describe('DMs across a node kill', () => {
  it('bob loses his node, fails over, and sees every DM exactly once; /dms and /history show the conversation', async () => {
    const [a, b] = cluster.processes;
    if (a === undefined || b === undefined) throw new Error('gateways did not start');
    const bob = chat([a, b], 'bob');
    await bob.waitForLine(/^You joined as bob \(id \d+, node gw-a\)$/);
    const alice = chat([b], 'alice');
    await alice.waitForLine(/^You joined as alice/);

    alice.write('/msg bob one');
    await bob.waitForLine('[DM from alice] one');
    a.kill('SIGKILL');
    alice.write('/msg bob two');
    alice.write('/msg bob three');
    await alice.waitForLine('[DM to bob] three');
    await bob.waitForLine(/^Reconnected as bob \(id \d+, node gw-b\)$/, 20_000);
    await bob.waitForLine('[DM from alice] three', 20_000);
    alice.write('/msg bob four');
    await bob.waitForLine('[DM from alice] four');

    bob.write('/dms');
    await bob.waitForLine('@alice: 4 unread (last #4)');
    bob.write('/history alice');
    await bob.waitForLine('[DM from alice] four');
    bob.write('/dms');
    await bob.waitForLine('@alice: 0 unread (last #4)');
    bob.end();
    expect(await bob.exited).toBe(0);

    const dms = bob.stdout.filter((line) => line.startsWith('[DM from alice]'));
    // Live: one, two, three, four (each once, through the fail-over); then /history's page.
    expect(dms).toEqual([
      '[DM from alice] one',
      '[DM from alice] two',
      '[DM from alice] three',
      '[DM from alice] four',
      '[DM from alice] one',
      '[DM from alice] two',
      '[DM from alice] three',
      '[DM from alice] four',
    ]);
    alice.end();
    expect(await alice.exited).toBe(0);
  }, 60_000);
});
