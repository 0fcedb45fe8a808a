import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  inLog,
  joinChat as join,
  logLines,
  openPage,
  say,
  see,
  SEE_MS,
  spawnGateway,
  stopProcesses,
  type GatewayProcess,
} from '@chat/test-support';
import { useBrowser } from './support/browser';

// One gateway on its embedded bus (no Redis): what a page shows of hostile input, and the token
// field of a cluster that authenticates.

const browser = useBrowser();
const gateways: GatewayProcess[] = [];
afterAll(() => stopProcesses(gateways));

async function gateway(env: Record<string, string> = {}, port?: number): Promise<GatewayProcess> {
  const started = await spawnGateway(
    { LOG_LEVEL: 'warn', ...env },
    port === undefined ? {} : { port },
  );
  gateways.push(started);
  return started;
}

/** Records anything a script injected through chat content could do that a user would notice. */
async function watchForScripts(page: Page): Promise<string[]> {
  const ran: string[] = [];
  page.on('dialog', (dialog) => {
    ran.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.exposeFunction('pwned', (what: string) => ran.push(`ran: ${what}`));
  return ran;
}

const ATTACK = '<img src=x onerror="pwned(\'img\');alert(1)">';

describe('hostile names and text', () => {
  it('shows markup, bidi overrides and zero-width characters as text and runs nothing', async () => {
    const node = await gateway();
    const alice = await openPage(browser(), node.url);
    const ran = await watchForScripts(alice);
    await join(alice, 'alice');
    await alice
      .getByRole('status')
      .filter({ hasText: `node ${node.nodeId}` })
      .waitFor();

    // A name with markup is refused by the gateway; the refusal shows the name as text.
    const mallory = await openPage(browser(), node.url);
    ran.push(...(await watchForScripts(mallory)));
    await join(mallory, ATTACK);
    await mallory.getByRole('alert').filter({ hasText: '(INVALID_NAME)' }).waitFor();
    await join(mallory, 'mallory\u200b');
    await mallory.getByRole('alert').filter({ hasText: 'invisible character (U+200B)' }).waitFor();
    await join(mallory, 'mallory');
    await see(alice, 'mallory joined');

    const text = `${ATTACK} \u202eevil\u200b <script>pwned('script')</script>`;
    await say(mallory, text);
    await see(alice, 'mallory: <img src=x onerror=');
    const [line] = await inLog(alice, 'mallory: <img').allTextContents();
    expect(line).toBe(
      `mallory: <img src=x onerror="pwned('img');alert(1)"> \\u202eevil\\u200b <script>pwned('script')</script>`,
    );
    expect(line).not.toMatch(/[\u202e\u200b]/u);
    expect(await alice.locator('[role=log] img, [role=log] script').count()).toBe(0);
    // The sender sees the same neutralised text for her own line.
    await inLog(mallory, 'mallory: <img').filter({ hasNotText: 'sending' }).waitFor();
    expect(await mallory.locator('[role=log] img').count()).toBe(0);
    expect(ran).toEqual([]);
    expect((await logLines(alice)).some((l) => l.includes('\u202e'))).toBe(false);
  });
});

describe('commands in the composer', () => {
  it('answers /who, /rooms and /help, and shows refusals inline with their code', async () => {
    const node = await gateway();
    const page = await openPage(browser(), node.url);
    await join(page, 'dora', 'dev');
    await page
      .getByRole('status')
      .filter({ hasText: `node ${node.nodeId}` })
      .waitFor();

    await say(page, '/who');
    await see(page, 'In #dev: dora');
    await say(page, '/rooms');
    await see(page, 'Rooms: #dev (1)');
    await say(page, '/help');
    await see(page, '/msg NAME text');
    await say(page, '/join Bad Room!');
    await see(page, /^error: .+ \(INVALID_ROOM\)$/);
    await say(page, '/msg nobody hello?');
    await inLog(page, '[DM to nobody] hello?').filter({ hasText: '(USER_NOT_FOUND)' }).waitFor();
    expect(await page.getByRole('status').textContent()).toContain('#dev');
    // Joining the room she is in changes nothing; what she types next still goes out.
    await say(page, '/join dev');
    await say(page, 'still here');
    await inLog(page, 'dora: still here').filter({ hasNotText: 'sending' }).waitFor();
  });
});

describe('a line resent after the cluster lost its records', () => {
  it('is not resent again: the page says it is not sure the line was sent, and it is stored once', async () => {
    const first = await gateway({ NODE_ID: 'before' });
    const alice = await openPage(browser(), first.url);
    // alice's acks can be lost on the way back (Socket.IO ack frames: `43<id>[...]`).
    let dropAcks = false;
    await alice.routeWebSocket(/socket\.io/, (page) => {
      const server = page.connectToServer();
      page.onMessage((frame) => server.send(frame));
      server.onMessage((frame) => {
        if (!(dropAcks && typeof frame === 'string' && frame.startsWith('43'))) page.send(frame);
      });
    });
    await alice.reload(); // routing applies to pages loaded after it is set
    const bob = await openPage(browser(), first.url);
    await join(bob, 'bob', 'dev');
    await bob.getByRole('status').filter({ hasText: 'node before' }).waitFor();
    await join(alice, 'alice', 'dev');
    await see(bob, 'alice joined');

    dropAcks = true;
    await say(alice, 'maybe');
    await see(bob, 'alice: maybe');
    // The node dies with the only record of the line; another takes its place, knowing nothing.
    await first.crash();
    dropAcks = false;
    await gateway({ NODE_ID: 'after' }, first.port);
    await inLog(alice, 'alice: maybe')
      .filter({ hasText: '! not sure this was sent: the server lost its records' })
      .waitFor({ timeout: SEE_MS });
    await bob.getByRole('status').filter({ hasText: 'node after' }).waitFor({ timeout: SEE_MS });
    await say(alice, 'after');
    await see(bob, 'alice: after');
    expect((await logLines(bob)).filter((line) => line.includes('maybe'))).toHaveLength(1);
  });
});

describe('a room above PRESENCE_QUIET_ABOVE members', () => {
  it('says the room is large, then small again, beside the join and leave that changed it', async () => {
    const node = await gateway({ PRESENCE_QUIET_ABOVE: '1', LEAVE_GRACE_MS: '0' });
    const ann = await openPage(browser(), node.url);
    await join(ann, 'ann', 'big');
    await ann.getByRole('status').filter({ hasText: '#big' }).waitFor();
    const ben = await openPage(browser(), node.url);
    await join(ben, 'ben', 'big');
    await see(
      ben,
      '! #big is a large room: joins and leaves are not shown (/who lists its members)',
    );
    await see(ann, 'ben joined');
    await see(
      ann,
      '! #big is a large room: joins and leaves are not shown (/who lists its members)',
    );
    await ben.close();
    await see(ann, 'ben left (lost connection)');
    await see(ann, '! #big is small again: joins and leaves are shown');
  });
});

describe('a cluster with authentication', () => {
  it('asks for a token, explains a refusal, and joins with a valid one', async () => {
    const secret = 'web-test-secret-0123456789';
    const node = await gateway({ AUTH_SECRET: secret });
    const page = await openPage(browser(), node.url);
    const tokenField = page.getByLabel('Token');
    await tokenField.waitFor({ timeout: SEE_MS });

    await tokenField.fill('not-a-jwt');
    await join(page, 'carol');
    await page.getByRole('alert').filter({ hasText: '(UNAUTHORIZED)' }).waitFor();

    const token = await new SignJWT({ name: 'carol' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('carol-1')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret));
    await tokenField.fill(token);
    await page.getByRole('button', { name: 'Join' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `node ${node.nodeId}` })
      .waitFor();
    await see(page, /^You joined as carol/);
  });
});
