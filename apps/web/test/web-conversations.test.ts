import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  inLog,
  joinChat as join,
  openPage,
  say,
  see,
  SEE_MS,
  spawnGateway,
  stopProcesses,
  type GatewayProcess,
} from '@chat/test-support';
import { useBrowser } from './support/browser';

// One gateway on its embedded bus, with authentication: conversations belong to user ids, and
// with a token each return of a subject is the same user, so DMs sent while bob is away are his.

const browser = useBrowser();
const gateways: GatewayProcess[] = [];
afterAll(() => stopProcesses(gateways));

const SECRET = 'web-conversations-secret-0123456789';

async function token(name: string): Promise<string> {
  return new SignJWT({ name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`${name}-sub`)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/** Opens the page and joins as `name` with a token for that subject. */
async function arrive(node: GatewayProcess, name: string): Promise<Page> {
  const page = await openPage(browser(), node.url);
  const tokenField = page.getByLabel('Token');
  await tokenField.waitFor({ timeout: SEE_MS });
  await tokenField.fill(await token(name));
  await join(page, name);
  await page
    .getByRole('status')
    .filter({ hasText: `node ${node.nodeId}` })
    .waitFor({ timeout: SEE_MS });
  return page;
}

describe('conversations beside rooms', () => {
  it('lists a conversation with its unread count, loads its history on click and marks it read', async () => {
    const node = await spawnGateway({
      LOG_LEVEL: 'warn',
      AUTH_SECRET: SECRET,
      LEAVE_GRACE_MS: '300',
    });
    gateways.push(node);

    // bob has been here (so his name reaches him), then leaves.
    const first = await arrive(node, 'bob');
    const alice = await arrive(node, 'alice');
    await first.context().close();
    await see(alice, /^bob left/);

    await say(alice, '/msg bob first while you were away');
    await say(alice, '/msg bob second while you were away');
    await inLog(alice, '[DM to bob] second while you were away')
      .filter({ hasNotText: 'sending' })
      .waitFor({ timeout: SEE_MS });
    // The sender's list shows the conversation too, with nothing unread for her.
    const aliceList = alice.getByRole('list', { name: 'Conversations' });
    await aliceList.getByRole('button', { name: 'bob', exact: true }).waitFor({ timeout: SEE_MS });

    const bob = await arrive(node, 'bob');
    const conversations = bob.getByRole('list', { name: 'Conversations' });
    const withAlice = conversations.getByRole('button', { name: /^alice/ });
    await conversations
      .getByRole('button', { name: 'alice (2)', exact: true })
      .waitFor({ timeout: SEE_MS });

    await withAlice.click();
    await inLog(bob, '[DM from alice] first while you were away')
      .filter({ hasText: '(earlier)' })
      .waitFor({ timeout: SEE_MS });
    await inLog(bob, '[DM from alice] second while you were away')
      .filter({ hasText: '(earlier)' })
      .waitFor({ timeout: SEE_MS });
    await conversations
      .getByRole('button', { name: 'alice', exact: true })
      .waitFor({ timeout: SEE_MS });
    expect(await conversations.getByRole('listitem').allTextContents()).toEqual(['alice']);

    // The page keeps its contract: the Members list and the status line are still there.
    await bob.getByRole('list', { name: 'Members' }).getByText('bob (you)').waitFor();
    expect(await bob.getByRole('status').textContent()).toContain(`node ${node.nodeId}`);
  });
});
