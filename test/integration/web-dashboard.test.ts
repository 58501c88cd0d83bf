// The dashboard in a real headless browser (Debian's chromium driven by playwright-core) against a real pool:
// every page renders from the API, the keyboard reaches the pages, signing in with a pasted token enables
// hold/release/remove, and a change made elsewhere shows up through the event stream without a reload. A
// screenshot of each page goes to $DSCHED_ARTIFACTS (default: a folder in the temp directory).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { DIST, TestPool } from './harness/pool.js';
import { CHROMIUM, launchBrowser, openPage, type Browser } from './harness/browser.js';
import { web, webAddress } from './harness/web.js';

const SHOTS = process.env.DSCHED_ARTIFACTS
  ? join(process.env.DSCHED_ARTIFACTS, 'web')
  : join(tmpdir(), 'dsched-web-screenshots');

describe(
  'web – dashboard in a browser',
  { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}: the browser tests need Debian's chromium (.ci/run installs it)` },
  () => {
    let pool: TestPool;
    let page: Page;
    let browser: Browser | undefined;
    let held: number;
    let progress: number;
    let dag: number;
    let token: string;
    let base: string;
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    /** Open a page of the dashboard and wait until it has rendered from the API. */
    const open = (hash: string) => openPage(page, base, hash);

    before(async () => {
      mkdirSync(SHOTS, { recursive: true });
      pool = await TestPool.start();
      base = `http://${webAddress(pool)}`;
      // no slot can run them: released, they stay idle
      pool.file('held.sub', 'executable = /bin/true\nhold = true\nrequirements = Memory > 100000000\nqueue 3\n');
      held = await pool.submit('held.sub');
      pool.file(
        'progress.sub',
        `executable = /bin/sh\narguments = "-c 'echo working on it; ${process.execPath} ${join(DIST, 'cli', 'dchirp.js')} set_job_attr Progress 0.42; sleep 600'"\noutput = progress.out\nlog = progress.log\nqueue\n`,
      );
      progress = await pool.submit('progress.sub');
      pool.file('node.sub', 'executable = /bin/true\nqueue\n');
      pool.file('g.dag', 'JOB A node.sub\nJOB B node.sub\nJOB C node.sub\nPARENT A CHILD B C\n');
      const d = await pool.run('dsubmit-dag', ['g.dag']);
      assert.equal(d.code, 0, d.stderr);
      dag = Number(/cluster (\d+)/.exec(d.stdout)![1]);
      token = (await pool.run('dsched', ['token', 'create'])).stdout.trim();
      await pool.waitFor(
        'the job to report its progress',
        async () => (await pool.run('dq', [`${progress}.0`, '-af', 'Progress'])).stdout.trim() === '0.42',
      );
      browser = await launchBrowser((e) => assert.fail(`error in the page: ${e.message}`));
      page = browser.page;
    });
    after(async () => {
      await browser?.close();
      await pool?.stop();
    });

    test('web – the overview shows slots by state, jobs, utilisation and submitters', async () => {
      await open('#/overview');
      assert.equal(await page.locator('h1').textContent(), 'Pool overview');
      assert.match((await page.locator('#slot-cards').textContent()) ?? '', /Total/);
      assert.match((await page.locator('main table').textContent()) ?? '', /root@/);
      await shot('overview');
    });

    test('web – the queue in batches and as jobs, filtered by owner, state and constraint', async () => {
      await open('#/queue');
      assert.match((await page.locator('#totals').textContent()) ?? '', /Total for all users: \d+ jobs/);
      assert.match((await page.locator('main table').textContent()) ?? '', new RegExp(`ID: ${held}`));
      await shot('queue');
      await open(`#/queue?view=jobs&state=held&constraint=${encodeURIComponent(`ClusterId == ${held}`)}`);
      assert.equal(await page.locator('main tbody tr').count(), 3);
      await shot('queue-jobs');
    });

    test('web – the keyboard reaches every page', async () => {
      await open('#/overview');
      await page.keyboard.press('q');
      await page.waitForSelector('main[data-page="queue"][data-ready="true"]');
      await page.keyboard.press('h');
      await page.waitForSelector('main[data-page="history"][data-ready="true"]');
      await page.locator('a.skip').focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Overview');
    });

    test('web – sign in with a pasted token, then hold and release from the job page, live', async () => {
      await open('#/signin');
      await page.fill('#token', token);
      await page.click('#signin');
      await page.waitForFunction(() => document.getElementById('who')?.textContent?.startsWith('root'));
      assert.equal(await page.evaluate(() => sessionStorage.getItem('dsched-token') !== null), true);
      await open(`#/job/${held}.0`);
      assert.match((await page.locator('#hold-reason').textContent()) ?? '', /hold|submitted/i);
      await page.waitForFunction(
        () => !(document.getElementById('analysis')?.textContent ?? 'analysing').startsWith('analysing'),
      );
      assert.match((await page.locator('#analysis').textContent()) ?? '', /held|Hold/);
      await shot('job-held');
      await page.click('#act-release');
      await page.waitForSelector('h1 .s-idle', { timeout: 30_000 });
      // a change made elsewhere arrives over the event stream: no reload here
      const r = await web(pool, '/v1/jobs/actions', {
        token,
        body: { action: 'hold', ids: [`${held}.0`], reason: 'held from outside the page' },
      });
      assert.equal(r.status, 200, r.text);
      await page.waitForSelector('h1 .s-held', { timeout: 30_000 });
      assert.match((await page.locator('#hold-reason').textContent()) ?? '', /held from outside the page/);
    });

    test("web – a running job's progress and the tail of its output", async () => {
      await open(`#/job/${progress}.0`);
      assert.match((await page.locator('main').textContent()) ?? '', /Progress 42%/);
      await page.waitForFunction(() =>
        (document.getElementById('output')?.textContent ?? '').includes('working on it'),
      );
      await shot('job-running');
    });

    test('web – the DAG page draws the nodes coloured by state with counts', async () => {
      await open('#/dags');
      await shot('dags');
      await open(`#/dag/${dag}`);
      assert.equal(await page.locator('#dag-graph g.dag-node').count(), 3);
      assert.match((await page.locator('#dag-counts').textContent()) ?? '', /\d/);
      await shot('dag');
    });

    test('web – history lists finished jobs', async () => {
      await pool.waitForHistory(dag, 1);
      await open('#/history');
      assert.match((await page.locator('main table').textContent()) ?? '', new RegExp(`${dag}\\.0`));
      await shot('history');
    });
  },
);
