// The dashboard's tests drive a real headless browser: Debian's chromium through playwright-core, a profile of
// its own per launch, and a page opened once it has rendered from the API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A headless chromium with one page; an error in the page fails the test. */
export async function launchBrowser(onPageError: (e: Error) => void): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'dsched-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', onPageError);
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Open a page of the dashboard at `base` and wait until it has rendered from the API. */
export async function openPage(page: Page, base: string, hash: string, timeout = 30_000): Promise<void> {
  await page.goto(`${base}/${hash}`);
  await page.waitForFunction(
    (h) => {
      const m = document.getElementById('main');
      return m?.dataset.ready === 'true' && m.dataset.route === h;
    },
    hash,
    { timeout },
  );
}
