import { launchChromium } from '@chat/test-support';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { buildWeb } from '../../build';

/**
 * The web client built from the current sources (the gateways under test serve apps/web/dist),
 * and a headless Chromium for the suite; each page gets a context of its own.
 */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    await buildWeb();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === undefined) throw new Error('the browser is read before beforeAll ran');
    return browser;
  };
}
