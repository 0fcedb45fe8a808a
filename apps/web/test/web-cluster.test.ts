import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  inLog,
  joinChat as join,
  logLines,
  openPage,
  say,
  see,
  SEE_MS,
  useGatewayCluster,
} from '@chat/test-support';
import { useBrowser } from './support/browser';

// Two people, each in a real browser, on two gateway processes sharing one Redis (in Docker).
// Everything is read through the page's accessibility contract: labels, roles, visible text.

const cluster = useGatewayCluster({ env: { LOG_LEVEL: 'warn' }, cleanup: 'all' });
const browser = useBrowser();

describe('the web client on two gateways', () => {
  it('joins, shows presence and members, chats both ways, sends a DM and switches rooms', async () => {
    const [a, b] = await cluster.startMany(['web-a', 'web-b']);
    if (a === undefined || b === undefined) throw new Error('gateways did not start');

    const alice = await openPage(browser(), a.url);
    await join(alice, 'alice');
    const aliceStatus = alice.getByRole('status');
    await aliceStatus.filter({ hasText: 'node web-a' }).waitFor({ timeout: SEE_MS });

    const bob = await openPage(browser(), b.url, 380); // a phone-width screen
    await join(bob, 'bob', 'lobby');
    await bob.getByRole('status').filter({ hasText: 'node web-b' }).waitFor({ timeout: SEE_MS });

    await see(alice, 'bob joined');
    const aliceMembers = alice.getByRole('list', { name: 'Members' });
    await aliceMembers.getByText('bob').waitFor({ timeout: SEE_MS });
    await bob.getByRole('list', { name: 'Members' }).getByText('alice').waitFor();

    await say(alice, 'hello bob');
    await see(bob, 'alice: hello bob');
    await say(bob, 'hi alice');
    await see(alice, 'bob: hi alice');
    // alice's own line is confirmed: no longer "sending".
    await inLog(alice, 'alice: hello bob').filter({ hasNotText: 'sending' }).waitFor();

    // A private message: pick bob in Members, the composer is ready for the text.
    await aliceMembers.getByRole('button', { name: 'bob' }).click();
    await alice.keyboard.type('psst');
    await alice.keyboard.press('Enter');
    await see(bob, '[DM from alice] psst');
    await inLog(alice, '[DM to bob] psst').filter({ hasNotText: 'sending' }).waitFor();

    // bob moves to #dev and speaks there; alice sees him go, then follows from the room list.
    await say(bob, '/join dev');
    await bob.getByRole('status').filter({ hasText: '#dev' }).waitFor({ timeout: SEE_MS });
    await see(alice, /^bob left \(moved/);
    await say(bob, 'anyone in dev?');
    await inLog(bob, 'bob: anyone in dev?').filter({ hasNotText: 'sending' }).waitFor();
    await alice.getByRole('list', { name: 'Rooms' }).getByRole('button', { name: /#dev/ }).click();
    await aliceStatus.filter({ hasText: '#dev' }).waitFor({ timeout: SEE_MS });
    // bob's line from before she came is history, marked as earlier.
    await see(alice, 'bob: anyone in dev? (earlier)');
    await see(bob, 'alice joined');
    await say(alice, 'here now');
    await see(bob, 'alice: here now');

    const bobLines = await logLines(bob);
    expect(bobLines.filter((line) => line.includes('alice: hello bob'))).toHaveLength(1);
    expect(bobLines.filter((line) => line.includes('[DM from alice] psst'))).toHaveLength(1);
    // README's screenshot: written only when asked, so a test run leaves the checkout clean.
    const screenshot = process.env.UPDATE_SCREENSHOT
      ? new URL('../screenshot.png', import.meta.url).pathname
      : joinPath(tmpdir(), 'chat-web-screenshot.png');
    await alice.screenshot({ path: screenshot });
  });
});
