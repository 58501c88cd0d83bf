// A job whose stored ad holds an attribute that is no ClassAd expression (a queue or history written by an
// older version: a text that does not parse, or one over the 1 MiB limit; every writer now refuses them) is
// still listed in every output form: the attribute is left out (-xml: shown as its stored text), stderr names
// the job and the attribute and says why, and the command exits non-zero. Such a job once made dq -long and
// -json print nothing and exit 0. The web API does the same wherever it reads whole job ads (/v1/jobs,
// /v1/history, /v1/jobs/{id} and its analysis, /v1/dags and a DAG's page: the job shown, `unreadable` naming
// what was left out), and the dashboard's pages show them; one such job once failed the whole answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TestPool } from './harness/pool.js';
import { CHROMIUM, launchBrowser, openPage } from './harness/browser.js';
import { web, webAddress } from './harness/web.js';

const HUGE = '"' + 'x'.repeat(1100 * 1024) + '"';

describe('unreadable attributes', () => {
  let pool: TestPool;
  let queued = 0;
  let done = 0;
  let dag = 0;
  let node = 0;
  before(async () => {
    pool = await TestPool.start();
    queued = await pool.submit(pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 3\n'));
    done = await pool.submit(pool.file('done.sub', 'executable = /bin/true\nqueue 1\n'));
    await pool.waitForHistory(done, 1);
    // a DAG that stays in the queue: its one node is held
    pool.file('node.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    pool.file('d.dag', 'JOB A node.sub\n');
    const d = await pool.run('dsubmit-dag', ['d.dag']);
    assert.equal(d.code, 0, d.stderr);
    dag = Number(/cluster (\d+)/.exec(d.stdout)![1]);
    node = await pool.waitFor('the DAG to queue its node', async () => {
      const r = await pool.run('dq', ['-constraint', `DAGManJobId == ${dag}`, '-af', 'ClusterId']);
      return Number(r.stdout.trim()) || undefined;
    });
    assert.equal((await pool.run('dsched', ['stop'])).code, 0);
    // as an older version could have written them
    const db = new Database(join(pool.home, 'spool', 'job_queue.db'));
    const plant = (table: string, cluster: number, proc: number, name: string, text: string) => {
      const row = db.prepare(`SELECT ad FROM ${table} WHERE cluster_id = ? AND proc_id = ?`).get(cluster, proc) as {
        ad: string;
      };
      const ad = JSON.parse(row.ad) as Record<string, string>;
      ad[name] = text;
      db.prepare(`UPDATE ${table} SET ad = ? WHERE cluster_id = ? AND proc_id = ?`).run(
        JSON.stringify(ad),
        cluster,
        proc,
      );
    };
    plant('jobs', queued, 0, 'Huge', HUGE);
    plant('jobs', queued, 1, 'Broken', '(1 +');
    plant('history', done, 0, 'Broken', '(1 +');
    plant('jobs', dag, 0, 'Broken', '(1 +');
    plant('jobs', node, 0, 'ExitCode', '(1 +');
    db.close();
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await pool.run('dsched', ['stop']);
  });

  /** `jobs`: of the jobs listed, those with one attribute left out (the whole queue has the DAG's two too). */
  const saysQueued = (stderr: string, jobs = 2) => {
    assert.match(
      stderr,
      new RegExp(`^dq: job ${queued}\\.0: attribute Huge cannot be read: input of \\d+ characters is larger than`, 'm'),
    );
    assert.match(stderr, new RegExp(`^dq: job ${queued}\\.1: attribute Broken cannot be read: expected `, 'm'));
    assert.match(stderr, new RegExp(`^dq: error\\[\\w+\\]: ${jobs} attributes of ${jobs} jobs could not be read`, 'm'));
    // the diagnostic never carries the megabyte itself
    assert.ok(stderr.length < 4096, `stderr of ${stderr.length} characters`);
  };

  for (const form of ['-json', '-long', '-jsonl']) {
    test(`unreadable attributes – dq ${form} lists every job without them, names them, exits non-zero`, async () => {
      const r = await pool.run('dq', [String(queued), form]);
      assert.notEqual(r.code, 0, r.stdout);
      saysQueued(r.stderr);
      const procs =
        form === '-json'
          ? (JSON.parse(r.stdout) as Array<Record<string, unknown>>).map((j) => j.ProcId)
          : form === '-jsonl'
            ? r.stdout
                .trim()
                .split('\n')
                .map((l) => (JSON.parse(l) as Record<string, unknown>).ProcId)
            : [...r.stdout.matchAll(/^ProcId = (\d+)$/gm)].map((m) => Number(m[1]));
      assert.deepEqual(procs, [0, 1, 2]);
      assert.doesNotMatch(r.stdout, /Broken|Huge/);
    });
  }

  test('unreadable attributes – dq -af prints the job, the attribute undefined', async () => {
    const r = await pool.run('dq', [String(queued), '-af', 'ProcId', 'Broken']);
    assert.notEqual(r.code, 0);
    assert.deepEqual(r.stdout.trim().split('\n'), ['0 undefined', '1 undefined', '2 undefined']);
    assert.match(r.stderr, new RegExp(`^dq: job ${queued}\\.1: attribute Broken cannot be read`, 'm'));
  });

  test('unreadable attributes – dq -xml shows the stored text and says so', async () => {
    const r = await pool.run('dq', [`${queued}.1`, '-xml']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /<a n="Broken"><e>\(1 \+<\/e><\/a>/);
    assert.match(r.stderr, new RegExp(`^dq: job ${queued}\\.1: attribute Broken cannot be read`, 'm'));
  });

  test('unreadable attributes – the qstat view (dq -pbs) lists every job and names them', async () => {
    const r = await pool.run('dq', ['-pbs']);
    assert.notEqual(r.code, 0);
    saysQueued(r.stderr, 4);
    assert.equal([...r.stdout.matchAll(new RegExp(`^${queued}\\.\\d\\s`, 'gm'))].length, 3, r.stdout);
  });

  test('unreadable attributes – the queue table, which reads none of them, is whole', async () => {
    const r = await pool.run('dq', [String(queued), '-nobatch']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal([...r.stdout.matchAll(new RegExp(`^${queued}\\.\\d `, 'gm'))].length, 3);
  });

  test('unreadable attributes – the web API lists every job without them and names job, attribute and why', async () => {
    const r = await web(pool, `/v1/jobs?cluster=${queued}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.jobs.map((j: Record<string, unknown>) => j.ProcId),
      [0, 1, 2],
    );
    assert.doesNotMatch(JSON.stringify(r.json.jobs), /Broken|Huge/);
    const named = (r.json.unreadable as Array<Record<string, string>>).sort((a, b) => a.job.localeCompare(b.job));
    assert.deepEqual(
      named.map((u) => [u.job, u.attribute, u.code]),
      [
        [`${queued}.0`, 'Huge', 'INPUT_TOO_LARGE'],
        [`${queued}.1`, 'Broken', 'CLASSAD_SYNTAX'],
      ],
    );
    assert.match(named[0]!.error, /^input of \d+ characters is larger than/);
    assert.match(named[1]!.error, /^expected /);
    // the answer never carries the megabyte itself
    assert.ok(r.text.length < 64 * 1024, `an answer of ${r.text.length} characters`);
    const whole = await web(pool, `/v1/jobs?cluster=${queued + 1}`);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.unreadable, undefined, 'a listing with nothing left out has no unreadable');
    const h = await web(pool, `/v1/history?constraint=${encodeURIComponent(`ClusterId == ${done}`)}`);
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(
      h.json.jobs.map((j: Record<string, unknown>) => j.ClusterId),
      [done],
    );
    assert.deepEqual(
      h.json.unreadable.map((u: Record<string, string>) => [u.job, u.attribute]),
      [[`${done}.0`, 'Broken']],
    );
  });

  test('unreadable attributes – one job, its analysis and the DAGs are answered without them, named', async () => {
    const names = (list: Array<Record<string, string>> | undefined) => list?.map((u) => [u.job, u.attribute, u.code]);
    const one = await web(pool, `/v1/jobs/${queued}.1`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.ProcId, 1);
    assert.equal(one.json.Broken, undefined);
    assert.deepEqual(names(one.json.$unreadable), [[`${queued}.1`, 'Broken', 'CLASSAD_SYNTAX']]);
    assert.match(one.json.$unreadable[0].error, /^expected /);
    const huge = await web(pool, `/v1/jobs/${queued}.0`);
    assert.equal(huge.status, 200, huge.text);
    assert.deepEqual(names(huge.json.$unreadable), [[`${queued}.0`, 'Huge', 'INPUT_TOO_LARGE']]);
    assert.ok(huge.text.length < 64 * 1024, `an answer of ${huge.text.length} characters`);
    const whole = await web(pool, `/v1/jobs/${queued}.2`);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.$unreadable, undefined, 'a whole job has no $unreadable');
    const finished = await web(pool, `/v1/jobs/${done}.0`);
    assert.equal(finished.status, 200, finished.text);
    assert.deepEqual(names(finished.json.$unreadable), [[`${done}.0`, 'Broken', 'CLASSAD_SYNTAX']]);
    const analysis = await web(pool, `/v1/jobs/${queued}.1/analyze`);
    assert.equal(analysis.status, 200, analysis.text);
    assert.match(analysis.json.text, new RegExp(`${queued}\\.1`));
    assert.deepEqual(names(analysis.json.unreadable), [[`${queued}.1`, 'Broken', 'CLASSAD_SYNTAX']]);
    const dags = await web(pool, '/v1/dags');
    assert.equal(dags.status, 200, dags.text);
    assert.deepEqual(
      dags.json.dags.map((j: Record<string, unknown>) => j.ClusterId),
      [dag],
    );
    assert.deepEqual(names(dags.json.unreadable), [[`${dag}.0`, 'Broken', 'CLASSAD_SYNTAX']]);
    const oneDag = await web(pool, `/v1/dags/${dag}`);
    assert.equal(oneDag.status, 200, oneDag.text);
    assert.equal(oneDag.json.dag.ClusterId, dag);
    assert.deepEqual(
      oneDag.json.nodes.map((n: Record<string, unknown>) => [n.name, n.job, n.state]),
      [['A', `${node}.0`, 'held']],
    );
    assert.deepEqual(names(oneDag.json.unreadable), [
      [`${dag}.0`, 'Broken', 'CLASSAD_SYNTAX'],
      [`${node}.0`, 'ExitCode', 'CLASSAD_SYNTAX'],
    ]);
  });

  test(
    'unreadable attributes – the dashboard shows the jobs and DAGs and names each attribute it had to leave out',
    { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}: the browser tests need Debian's chromium` },
    async () => {
      const browser = await launchBrowser((e) => assert.fail(`error in the page: ${e.message}`));
      try {
        const base = `http://${webAddress(pool)}`;
        // the queue's table asks for the attributes it shows, none of them unreadable: every job, no note
        await openPage(
          browser.page,
          base,
          `#/queue?view=jobs&constraint=${encodeURIComponent(`ClusterId == ${queued}`)}`,
        );
        assert.equal(await browser.page.locator('main tbody tr').count(), 3);
        assert.equal(await browser.page.locator('main .unreadable').count(), 0);
        // the history asks for whole ads
        await openPage(browser.page, base, '#/history');
        assert.match((await browser.page.locator('main tbody').textContent()) ?? '', new RegExp(String(done)));
        assert.match(
          (await browser.page.locator('main .unreadable').textContent()) ?? '',
          new RegExp(`job ${done}\\.0: attribute Broken cannot be read: expected `),
        );
        // the job's page: the job, its ad without the attribute, and the note
        await openPage(browser.page, base, `#/job/${queued}.1`);
        assert.match((await browser.page.locator('main h1').textContent()) ?? '', new RegExp(`Job ${queued}\\.1`));
        assert.match(
          (await browser.page.locator('main .unreadable').textContent()) ?? '',
          new RegExp(`job ${queued}\\.1: attribute Broken cannot be read: expected `),
        );
        const ad = (await browser.page.locator('main dl.ad').textContent()) ?? '';
        assert.match(ad, /ProcId/);
        assert.doesNotMatch(ad, /Broken|unreadable/);
        // the DAGs, and the DAG's page with its node
        await openPage(browser.page, base, '#/dags');
        assert.match((await browser.page.locator('main tbody').textContent()) ?? '', new RegExp(String(dag)));
        assert.match(
          (await browser.page.locator('main .unreadable').textContent()) ?? '',
          new RegExp(`job ${dag}\\.0: attribute Broken cannot be read`),
        );
        await openPage(browser.page, base, `#/dag/${dag}`);
        assert.equal(await browser.page.locator('#dag-graph g.dag-node').count(), 1);
        assert.match(
          (await browser.page.locator('main .unreadable').textContent()) ?? '',
          new RegExp(`job ${node}\\.0: attribute ExitCode cannot be read`),
        );
      } finally {
        await browser.close();
      }
    },
  );

  for (const form of [['-json'], ['-long'], ['-af', 'ClusterId', 'Broken'], ['-xml']]) {
    test(`unreadable attributes – dhistory ${form[0]} lists the job and names the attribute`, async () => {
      const r = await pool.run('dhistory', [String(done), ...form]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, new RegExp(`^dhistory: job ${done}\\.0: attribute Broken cannot be read: expected `, 'm'));
      assert.match(r.stderr, new RegExp(`^dhistory: error\\[CLASSAD_SYNTAX\\]: an attribute of job ${done}\\.0`, 'm'));
      assert.match(r.stdout, new RegExp(String(done)));
    });
  }
});
