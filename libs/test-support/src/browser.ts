import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Debian's `chromium` package; CHROMIUM_PATH points elsewhere. Never `playwright install`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];

/** How long to wait for what a user would see: generous, since the machine is shared. */
export const SEE_MS = 20_000;

/**
 * A headless Chromium (playwright gives each launch a fresh temporary profile). Fails with one
 * line saying how to get Chromium when it is missing: browser tests are never skipped.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: the browser tests need Debian's package (apt-get install -y chromium) or CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A page in a context of its own (fresh cookies and storage: another person), `width` wide. */
export async function openPage(browser: Browser, url: string, width = 1000): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 700 } });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** Fills the web client's join form by its labels and presses `Join`, as a user does. */
export async function joinChat(page: Page, name: string, room?: string): Promise<void> {
  await page.getByLabel('Name').fill(name);
  if (room !== undefined) await page.getByLabel('Room').fill(room);
  await page.getByRole('button', { name: 'Join' }).click();
}

/** Types a line into `Message` and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
}

/** The conversation's items whose text contains `text` (or matches it). */
export function inLog(page: Page, text: string | RegExp): Locator {
  return page.getByRole('log').getByRole('listitem').filter({ hasText: text });
}

/** Resolves once the conversation shows a line with `text`. */
export async function see(page: Page, text: string | RegExp, timeout = SEE_MS): Promise<void> {
  await inLog(page, text).first().waitFor({ timeout });
}

/** Every line of the conversation, as text. */
export async function logLines(page: Page): Promise<string[]> {
  return page.getByRole('log').getByRole('listitem').allTextContents();
}

/**
 * Scrolls the conversation to its top, as a user does to read earlier messages (a `scroll`
 * event is sent even when the log is too short to move).
 */
export async function scrollLogToTop(page: Page): Promise<void> {
  await page.getByRole('log').evaluate((log) => {
    log.scrollTop = 0;
    log.dispatchEvent(new Event('scroll'));
  });
}
