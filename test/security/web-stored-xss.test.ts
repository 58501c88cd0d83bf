// What a user writes into their jobs (a batch name, arguments, an attribute of their own, a hold reason, the
// job's output) is shown by the dashboard to every user, the pool's admins too. Held up when tried: each value
// is put into the page as text, never as markup, and the page's Content-Security-Policy would run no script of
// a value's anyway. nobody's values hold HTML that would run a script, and root's signed-in browser (Debian's
// chromium) shows every page they are on with no element of theirs in it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { TestPool } from '../integration/harness/pool.js';
import { CHROMIUM, launchBrowser, openPage, type Browser } from '../integration/harness/browser.js';
import { web, webAddress } from '../integration/harness/web.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const skip =
  (process.getuid?.() !== 0 && 'needs root to run a pool and act as another user') ||
  (!existsSync(CHROMIUM) && `no ${CHROMIUM}: the browser tests need Debian's chromium (.ci/run installs it)`);
/** Markup that runs a script wherever it is taken as HTML (the marker says which value it came from). */
const hostile = (where: string) => `<img src=x class=xss onerror=window.__xss='${where}'>`;

describe("security – web: a user's values on an admin's dashboard", { skip }, () => {
  let pool: TestPool;
  let browser: Browser | undefined;
  let page: Page;
  let done: number;
  let held: number;
  let base: string;

  before(async () => {
    pool = await TestPool.start();
    base = `http://${webAddress(pool)}`;
    const user = nobodyFolder(pool.work);
    user.put(
      'done.sub',
      `executable = /bin/echo\narguments = "${hostile('output')}"\noutput = done.out\n+JobBatchName = "${hostile('batch')}"\nqueue\n`,
    );
    user.put(
      'held.sub',
      `executable = /bin/true\nrequirements = false\n+JobBatchName = "${hostile('batch')}"\n+Note = "<script>window.__xss='attribute'</script>"\nqueue\n`,
    );
    done = await pool.submit('done.sub', [], { ...NOBODY, cwd: user.dir });
    held = await pool.submit('held.sub', [], { ...NOBODY, cwd: user.dir });
    const t = await pool.run('dsched', ['token', 'create'], NOBODY);
    assert.equal(t.code, 0, t.stderr);
    const hold = await web(pool, '/v1/jobs/actions', {
      token: t.stdout.trim(),
      body: { action: 'hold', ids: [`${held}.0`], reason: hostile('hold reason') },
    });
    assert.equal(hold.status, 200, hold.text);
    assert.equal(hold.json.results[0].ok, true, hold.text);
    await pool.waitForHistory(done, 1);
    browser = await launchBrowser((e) => assert.fail(`error in the page: ${e.message}`));
    page = browser.page;
    // root signs in: the job pages then show the output too
    const token = (await pool.run('dsched', ['token', 'create'])).stdout.trim();
    await openPage(page, base, '#/signin');
    await page.fill('#token', token);
    await page.click('#signin');
    await page.waitForFunction(() => document.getElementById('who')?.textContent?.startsWith('root'));
  });
  after(async () => {
    await browser?.close();
    await pool?.stop();
  });

  /** Open a page and check that no value of nobody's became an element or ran. */
  async function shownAsText(hash: string): Promise<void> {
    await openPage(page, base, hash);
    assert.equal(await page.locator('img.xss, script:not([src])').count(), 0, `markup of a value on ${hash}`);
    assert.equal(await page.evaluate(() => (window as { __xss?: string }).__xss), undefined, hash);
  }

  test('security – web: batch names, attributes, a hold reason and output are shown as text on every page', async () => {
    await shownAsText('#/queue');
    assert.match((await page.locator('main table').textContent()) ?? '', /<img src=x class=xss/);
    await shownAsText(`#/queue?view=jobs&owner=nobody`);
    await shownAsText(`#/job/${held}.0`);
    assert.equal(await page.locator('#hold-reason').textContent(), hostile('hold reason'));
    assert.match((await page.locator('dl.ad').textContent()) ?? '', /<script>window.__xss='attribute'<\/script>/);
    await shownAsText(`#/job/${done}.0`);
    await page.waitForFunction(() => (document.getElementById('output')?.textContent ?? '').includes('<img'));
    assert.equal(await page.locator('img.xss').count(), 0);
    await shownAsText('#/history');
    assert.equal(await page.evaluate(() => (window as { __xss?: string }).__xss), undefined);
  });
});
