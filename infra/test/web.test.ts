import {
  freePort,
  inLog,
  joinChat,
  launchChromium,
  logLines,
  openPage,
  say,
  see,
  SEE_MS,
} from '@chat/test-support';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ComposeProject } from './support/compose';

/**
 * The web client as users open it: served by the gateways of the compose stack, reached through
 * the HAProxy balancer, in a real (headless) Chromium. Its gateway container is killed under
 * it; it must come back through the balancer on another replica with nothing missing and
 * nothing twice.
 */
const GATEWAYS = 2;

let project: ComposeProject | undefined;
let browser: Browser | undefined;
let url = '';

function stack(): ComposeProject {
  if (project === undefined) throw new Error('the compose stack did not start');
  return project;
}

/** The node id the page's status shows (`node <id>`), once it shows one. */
async function nodeOf(page: Page, not?: string): Promise<string> {
  return vi.waitFor(
    async () => {
      const status = (await page.getByRole('status').textContent()) ?? '';
      const node = /node (\S+)/.exec(status)?.[1];
      expect(node, `status: ${status}`).toBeDefined();
      expect(node).not.toBe(not);
      return node ?? '';
    },
    { timeout: 60_000, interval: 100 },
  );
}

async function countIn(page: Page, line: string): Promise<number> {
  return (await logLines(page)).filter((text) => text.startsWith(line)).length;
}

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  project = await ComposeProject.create({
    CHAT_PORT: String(port),
    // A tag of its own: other suites build chat-gateway:e2e from their sources.
    GATEWAY_IMAGE: 'chat-gateway:web-e2e',
    NODE_TTL_MS: '3000',
    LOG_LEVEL: 'warn',
    AUTH_SECRET: '',
  });
  await project.compose(['build', 'gateway'], 280_000);
  await project.compose(['up', '-d', '--scale', `gateway=${GATEWAYS}`], 120_000);
  await vi.waitFor(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), {
    timeout: 60_000,
    interval: 200,
  });
  browser = await launchChromium();
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && project !== undefined) {
    process.stderr.write(`--- compose logs (${project.name}) ---\n${await project.logs()}\n`);
  }
});

afterAll(async () => {
  await browser?.close();
  await project?.down();
});

describe('the web client through the compose balancer', () => {
  it('keeps its conversation when its gateway container is killed', async () => {
    if (browser === undefined) throw new Error('no browser');
    const alice = await openPage(browser, url);
    await joinChat(alice, 'alice');
    const victim = await nodeOf(alice);
    const bob = await openPage(browser, url);
    await joinChat(bob, 'bob');
    await nodeOf(bob);
    await see(alice, 'bob joined');

    await say(alice, 'a1 before');
    await say(bob, 'b1 before');
    await see(bob, 'alice: a1 before');
    await see(alice, 'bob: b1 before');

    await stack().kill(await stack().gatewayOf(victim));
    // Both type at once: whichever of them is cut off keeps the line as "sending".
    await say(bob, 'b2 during');
    await say(alice, 'a2 during');

    const survivor = await nodeOf(alice, victim);
    expect(survivor).not.toBe(victim);
    await see(alice, 'bob: b2 during', 60_000);
    await see(bob, 'alice: a2 during', 60_000);
    await inLog(alice, 'alice: a2 during').filter({ hasNotText: 'sending' }).waitFor();
    await say(bob, 'b3 after');
    await see(alice, 'bob: b3 after', SEE_MS);

    for (const line of ['bob: b1 before', 'bob: b2 during', 'bob: b3 after']) {
      expect(await countIn(alice, line), `${line}\n${(await logLines(alice)).join('\n')}`).toBe(1);
    }
    for (const line of ['alice: a1 before', 'alice: a2 during']) {
      expect(await countIn(bob, line), `${line}\n${(await logLines(bob)).join('\n')}`).toBe(1);
    }
  });
});
