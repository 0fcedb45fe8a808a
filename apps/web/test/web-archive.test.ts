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
// log to its top brings the room's earlier messages, past the window, until its start; a
// conversation's "Earlier messages with NAME" does the same for its private messages.

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

  it('pages a conversation back with "Earlier messages with NAME", past its window, to its start', async () => {
    // User ids start over with each Redis: forget other tests' conversations.
    await postgres().query('DELETE FROM archive_dms');
    const node = await spawnGateway({
      LOG_LEVEL: 'warn',
      DATABASE_URL: postgres().url,
      DM_HISTORY_LIMIT: '5',
    });
    gateways.push(node);
    const bob = await openPage(browser(), node.url);
    await joinChat(bob, 'bob', 'den');
    const alice = await openPage(browser(), node.url);
    await joinChat(alice, 'alice', 'den');
    const notes = Array.from({ length: 25 }, (_, i) => `note ${i + 1}`);
    for (const note of notes) await say(alice, `/msg bob ${note}`);
    await see(bob, '[DM from alice] note 25');
    await expect
      .poll(async () => (await postgres().query('SELECT 1 FROM archive_dms')).length, {
        timeout: 15_000,
      })
      .toBe(notes.length);
    // The lines of the conversation's pages (live DMs are not marked "(earlier)").
    const paged = async () =>
      (await logLines(bob))
        .filter((l) => l.includes('(earlier)'))
        .map((l) => /note (\d+)/.exec(l)?.[1]);
    const numbers = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
    await bob
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: /^alice/ })
      .click();
    // A page of 20: 5 from the Redis window, 15 from the archive.
    await expect.poll(paged, { timeout: SEE_MS }).toEqual(numbers(6, 25));
    await bob.getByRole('button', { name: 'Earlier messages with alice' }).click();
    await see(bob, 'No earlier messages with alice');
    expect(await paged()).toEqual(numbers(1, 25));
    expect(await bob.getByRole('button', { name: 'Earlier messages with alice' }).count()).toBe(0);
  }, 120_000);
});
