import { afterAll, describe, expect, it } from 'vitest';
import {
  inLog,
  joinChat,
  logLines,
  openPage,
  say,
  scrollLogToTop,
  see,
  SEE_MS,
  spawnGateway,
  stopProcesses,
  usePostgres,
  type GatewayProcess,
} from '@chat/test-support';
import { useBrowser } from './support/browser';

// One gateway with the archive (PostgreSQL) and a window of 5 messages per room: scrolling the
// log to its top brings the room's earlier messages, past the window, until its start.

const browser = useBrowser();
const postgres = usePostgres();
const gateways: GatewayProcess[] = [];
afterAll(() => stopProcesses(gateways));

describe('earlier messages on scroll', () => {
  it('loads the room page by page, from the archive beyond the window, in order', async () => {
    const node = await spawnGateway({
      LOG_LEVEL: 'warn',
      DATABASE_URL: postgres().url,
      HISTORY_LIMIT: '5',
      HISTORY_ON_JOIN: '2',
    });
    gateways.push(node);
    const alice = await openPage(browser(), node.url);
    await joinChat(alice, 'alice', 'annals');
    const lines = Array.from({ length: 30 }, (_, i) => `entry number ${i + 1}`);
    for (const line of lines) await say(alice, line);
    await inLog(alice, 'entry number 30')
      .filter({ hasNotText: 'sending' })
      .waitFor({ timeout: SEE_MS });
    await expect
      .poll(
        async () =>
          (await postgres().query('SELECT 1 FROM archive_messages WHERE room = $1', ['annals']))
            .length,
        { timeout: 15_000 },
      )
      .toBe(30);

    const bob = await openPage(browser(), node.url);
    await joinChat(bob, 'bob', 'annals');
    await see(bob, 'entry number 30');
    // Two pages of 20 reach the start: 28 earlier messages, then the room's beginning.
    await scrollLogToTop(bob);
    await see(bob, 'entry number 9');
    await scrollLogToTop(bob);
    await see(bob, 'No earlier messages in #annals');
    const shown = (await logLines(bob)).filter((l) => l.includes('entry number'));
    expect(shown.map((l) => /entry number (\d+)/.exec(l)?.[1])).toEqual(
      lines.map((_, i) => String(i + 1)),
    );
    expect((await logLines(bob))[0]).toBe('No earlier messages in #annals');
    // The button does the same from the keyboard; at the start it asks nothing more.
    await bob.getByRole('button', { name: 'Earlier messages' }).click();
    expect((await logLines(bob)).filter((l) => l.includes('No earlier'))).toHaveLength(1);
  }, 120_000);
});
