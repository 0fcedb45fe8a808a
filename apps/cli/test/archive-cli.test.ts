import { useGatewayCluster, usePostgres } from '@chat/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli';

// The CLI's `/more` and `/search` against a real gateway process with Redis (a window of 5
// messages per room) and the PostgreSQL archive behind it.

const postgres = usePostgres();
const cluster = useGatewayCluster({
  env: { LOG_LEVEL: 'warn', HISTORY_LIMIT: '5', HISTORY_ON_JOIN: '3' },
  cleanup: 'all',
});
const clis: CliProcess[] = [];
afterAll(() => clis.forEach((cli) => cli.kill()));

const FRUIT = ['apple', 'banana', 'cherry', 'damson', 'elder', 'fig', 'grape', 'kiwi', 'lime'];

describe('the CLI reading the archive', () => {
  it('/more pages back past the Redis window; /search finds by words', async () => {
    const gateway = await cluster.start('gw-arch', { DATABASE_URL: postgres().url });
    const alice = runCli(['--url', gateway.url, '--name', 'alice', '--room', 'orchard']);
    clis.push(alice);
    await alice.waitForLine(/^You joined as alice /);
    FRUIT.forEach((fruit) => alice.write(`${fruit} is ripe`));
    alice.end();
    expect(await alice.exited).toBe(0);
    // Every line was acked before alice left; the archive has them once its writer ran.
    await expect
      .poll(
        async () =>
          (await postgres().query('SELECT 1 FROM archive_messages WHERE room = $1', ['orchard']))
            .length,
        { timeout: 15_000 },
      )
      .toBe(FRUIT.length);

    const bob = runCli(['--url', gateway.url, '--name', 'bob', '--room', 'orchard']);
    clis.push(bob);
    await bob.waitForLine('[alice] lime is ripe');
    bob.write('/more');
    await bob.waitForLine('No earlier messages in #orchard');
    bob.write('/search kiwi OR fig');
    await bob.waitForLine('[alice] fig is ripe');
    bob.write('/search');
    bob.end();
    expect(await bob.exited).toBe(1);
    expect(bob.stdout).toEqual([
      expect.stringMatching(/^You joined as bob /),
      // History on joining: the last 3.
      ...FRUIT.slice(-3).map((f) => `[alice] ${f} is ripe`),
      // /more: the 6 before them, 4 from the archive and 2 from the Redis window, in order.
      ...FRUIT.slice(0, -3).map((f) => `[alice] ${f} is ripe`),
      'No earlier messages in #orchard',
      '2 messages in #orchard match "kiwi OR fig"',
      '[alice] kiwi is ripe',
      '[alice] fig is ripe',
    ]);
    expect(bob.stderr).toEqual(['usage: /search WORDS']);
  }, 90_000);

  it('/more NAME pages a conversation back past its Redis window, to its start', async () => {
    // User ids start over with each Redis: forget other tests' conversations.
    await postgres().query('DELETE FROM archive_dms');
    const gateway = await cluster.start('gw-dm', {
      DATABASE_URL: postgres().url,
      DM_HISTORY_LIMIT: '10',
    });
    const bob = runCli(['--url', gateway.url, '--name', 'bob', '--room', 'porch']);
    clis.push(bob);
    await bob.waitForLine(/^You joined as bob /);
    // Elsewhere, so that bob sees no join or leave notices of hers.
    const alice = runCli(['--url', gateway.url, '--name', 'alice', '--room', 'garden']);
    clis.push(alice);
    await alice.waitForLine(/^You joined as alice /);
    const sent = Array.from({ length: 25 }, (_, i) => `note ${i + 1}`);
    sent.forEach((text) => alice.write(`/msg bob ${text}`));
    alice.end();
    expect(await alice.exited).toBe(0);
    await bob.waitForLine('[DM from alice] note 25');
    await expect
      .poll(async () => (await postgres().query('SELECT 1 FROM archive_dms')).length, {
        timeout: 15_000,
      })
      .toBe(sent.length);
    const shown = bob.stdout.length;
    // The newest page of 20 (10 from the Redis window, 10 from the archive), then the rest.
    bob.write('/more alice');
    await expect.poll(() => bob.stdout.length - shown, { timeout: 10_000 }).toBe(20);
    bob.write('/more alice');
    await bob.waitForLine('No earlier messages with alice');
    bob.write('/more');
    await bob.waitForLine('No earlier messages in #porch');
    bob.end();
    expect(await bob.exited).toBe(0);
    expect(bob.stdout.slice(shown)).toEqual([
      ...sent.slice(5).map((text) => `[DM from alice] ${text}`),
      ...sent.slice(0, 5).map((text) => `[DM from alice] ${text}`),
      'No earlier messages with alice',
      'No earlier messages in #porch',
    ]);
  }, 90_000);
});
