// The web daemon of a real pool: started by the master, its URL printed by `dsched start`; the API answers with
// the same ads as `dq -json`, actions and submissions go through the schedd as the token's user, events arrive
// over SSE from the schedd's job-change stream, and /metrics counts what `dq -totals` and `dstatus -total` count.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { web, webEvents } from './harness/web.js';

describe('web – API', () => {
  let pool: TestPool;
  let held: number;
  let token: string;
  before(async () => {
    pool = TestPool.create();
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dashboard and HTTP API at http:\/\/127\.0\.0\.1:\d+\//);
    // held jobs and jobs no slot can run stay as they are while the test compares
    pool.file('held.sub', 'executable = /bin/sleep\narguments = 600\nhold = true\n+Note = "for the web"\nqueue 5\n');
    pool.file('never.sub', 'executable = /bin/true\nrequirements = Memory > 100000000\nqueue 3\n');
    held = await pool.submit('held.sub');
    await pool.submit('never.sub');
    token = (await pool.run('dsched', ['token', 'create'])).stdout.trim();
  });
  after(async () => {
    await pool?.stop();
  });

  test('web – /v1/jobs pages through the queue with the ads of dq -json', async () => {
    const dq = await pool.json('dq', ['-allusers']);
    const first = await web(pool, '/v1/jobs?limit=5');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.jobs.length, 5);
    assert.ok(first.json.next);
    const second = await web(pool, `/v1/jobs?limit=5&after=${first.json.next}`);
    assert.equal(second.status, 200, second.text);
    const all = [...first.json.jobs, ...second.json.jobs];
    assert.equal(second.json.next, null);
    const strip = (ads: Array<Record<string, unknown>>) =>
      ads.map(({ EnteredCurrentStatus, ServerTime, ...rest }) => rest);
    assert.deepEqual(strip(all), strip(dq as Array<Record<string, unknown>>));
    const projected = await web(pool, `/v1/jobs?state=held&projection=Note`);
    assert.deepEqual(projected.json.jobs[0], { ClusterId: held, Note: 'for the web', ProcId: 0 });
    assert.equal(projected.json.jobs.length, 5);
  });

  test('web – the OpenAPI document describes the routes the handlers validate', async () => {
    const r = await web(pool, '/v1/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, '3.1.0');
    for (const p of [
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/jobs/actions',
      '/v1/submit',
      '/v1/history',
      '/v1/slots',
      '/v1/submitters',
      '/v1/dags/{id}',
      '/v1/jobs/{id}/output',
    ])
      assert.ok(r.json.paths[p.replace(/^\/v1/, '')] ?? r.json.paths[p], `documents ${p}`);
    // a job not acted on carries its error code
    assert.equal(r.json.components.schemas.ActionResults.properties.results.items.properties.code.type, 'string');
    const bad = await web(pool, '/v1/jobs?limit=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'USAGE');
  });

  test('web – hold and release with a token, seen on the event stream', async () => {
    // the released job runs (sleep 600) until it is held again: a job that ended first could not be held
    const events = webEvents(
      pool,
      (e, d) => e === 'jobs' && d.some((j: { id: string; status: number }) => j.id === `${held}.0` && j.status === 1),
      {
        onOpen: () =>
          void web(pool, '/v1/jobs/actions', { token, body: { action: 'release', ids: [`${held}.0`] } }).then((r) =>
            assert.equal(r.status, 200, r.text),
          ),
      },
    );
    await events;
    const again = await web(pool, '/v1/jobs/actions', {
      token,
      body: { action: 'hold', ids: [`${held}.0`], reason: 'from the web' },
    });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json.results, [{ id: `${held}.0`, ok: true, error: '' }]);
    // each job not acted on says why with its code: already held, and not in the queue
    const refused = await web(pool, '/v1/jobs/actions', {
      token,
      body: { action: 'hold', ids: [`${held}.0`, '999999.0'] },
    });
    assert.equal(refused.status, 200, refused.text);
    assert.deepEqual(refused.json.results, [
      { id: `${held}.0`, ok: false, error: `job ${held}.0 is already held`, code: 'JOB_STATE' },
      { id: '999999.0', ok: false, error: 'job 999999.0 is not in the queue', code: 'JOB_NOT_FOUND' },
    ]);
    const ad = await web(pool, `/v1/jobs/${held}.0`);
    assert.equal(ad.json.JobStatus, 5);
    assert.match(ad.json.HoldReason, /from the web/);
  });

  test("web – a submission runs as the token's user, and its output is read back", async () => {
    const r = await web(pool, '/v1/submit', {
      token,
      body: {
        cwd: pool.work,
        text: 'executable = /bin/echo\narguments = hello from the web\noutput = web.out\nlog = web.log\nqueue\n',
      },
    });
    assert.equal(r.status, 200, r.text);
    const hist = await pool.waitForHistory(r.json.cluster, 1);
    assert.equal(hist[0]!.Owner, 'root');
    const out = await web(pool, `/v1/jobs/${r.json.cluster}.0/output`, { token });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.json.text, 'hello from the web\n');
    const events = await web(pool, `/v1/jobs/${r.json.cluster}.0/events`, { token });
    assert.ok(
      events.json.events.some((e: { type: string }) => e.type === 'terminated'),
      events.text,
    );
    const history = await web(pool, `/v1/history?constraint=${encodeURIComponent(`ClusterId == ${r.json.cluster}`)}`);
    assert.equal(history.json.jobs[0].ClusterId, r.json.cluster);
  });

  test("web – a submission's jobs get the umask it gives (octal), else 0077; one that is no umask is refused", async () => {
    const submit = (umask?: string) =>
      web(pool, '/v1/submit', {
        token,
        body: { cwd: pool.work, text: 'executable = /bin/true\nhold = true\nqueue\n', umask },
      });
    for (const [umask, recorded] of [
      [undefined, 0o077],
      ['0027', 0o027],
      ['22', 0o022],
    ] as const) {
      const r = await submit(umask);
      assert.equal(r.status, 200, r.text);
      const [ad] = await pool.json('dq', [String(r.json.cluster)]);
      assert.equal(ad!.Umask, recorded, `umask ${umask}`);
    }
    for (const bad of ['0999', '01777', '-1', 'u=rwx']) {
      const r = await submit(bad);
      assert.equal(r.status, 400, `umask ${bad}: ${r.text}`);
    }
  });

  test('web – a description that changes its executable (two clusters) is refused whole at its second queue line', async () => {
    const r = await web(pool, '/v1/submit', {
      token,
      body: { cwd: pool.work, text: 'executable = /bin/true\nqueue\nexecutable = /bin/echo\nqueue\n' },
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'SUBMIT_QUEUE', r.text);
    assert.match(r.text, /second cluster/);
  });

  test('web – /v1/history pages newest first with after and next, and projects with projection', async () => {
    pool.file('gone.sub', 'executable = /bin/true\nhold = true\n+Note = "gone"\nqueue 5\n');
    const cluster = await pool.submit('gone.sub');
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    const only = encodeURIComponent(`ClusterId == ${cluster}`);
    const dhistory = (await pool.json('dhistory', [String(cluster)])).map((a) => a.ProcId);
    assert.equal(dhistory.length, 5);
    // three pages of two, in dhistory's order, each going on after the last job of the one before
    const procs: unknown[] = [];
    let next: string | null = null;
    for (let i = 0; i < 3; i++) {
      const page = await web(
        pool,
        `/v1/history?constraint=${only}&limit=2&projection=Note,JobStatus${next ? `&after=${next}` : ''}`,
      );
      assert.equal(page.status, 200, page.text);
      for (const ad of page.json.jobs) {
        assert.deepEqual(Object.keys(ad).sort(), ['ClusterId', 'JobStatus', 'Note', 'ProcId']);
        assert.equal(ad.JobStatus, 3);
        procs.push(ad.ProcId);
      }
      next = page.json.next;
      assert.equal(next === null, i === 2, `page ${i}: next ${next}`);
      if (next) assert.match(next, new RegExp(`^${cluster}\\.${page.json.jobs.at(-1).ProcId}@\\d+$`));
    }
    assert.deepEqual(procs, dhistory);
    const unknown = await web(pool, `/v1/history?after=999999.0`);
    assert.notEqual(unknown.status, 200);
    assert.equal(unknown.json.error.code, 'JOB_NOT_FOUND');
  });

  test("web – a DAG's nodes, their states and the graph", async () => {
    pool.file('node.sub', 'executable = /bin/true\nqueue\n');
    pool.file('d.dag', 'JOB A node.sub\nJOB B node.sub\nPARENT A CHILD B\n');
    const r = await pool.run('dsubmit-dag', ['d.dag']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const dag = await pool.waitFor('the DAG to run its first node', async () => {
      const d = await web(pool, `/v1/dags/${cluster}`, { token });
      return d.status === 200 && d.json.nodes.some((n: { state: string }) => n.state !== 'waiting')
        ? d.json
        : undefined;
    });
    assert.deepEqual(
      dag.nodes.map((n: { name: string; parents: string[] }) => [n.name, n.parents]),
      [
        ['A', []],
        ['B', ['A']],
      ],
    );
    await pool.waitForHistory(cluster, 1);
  });

  test('web – /metrics counts what dq -totals and dstatus -total count', async () => {
    const metric = (text: string, name: string, labels: Record<string, string> = {}) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
    const JOB_STATES = ['completed', 'removed', 'idle', 'running', 'held', 'suspended'];
    const SLOT_STATES = ['Owner', 'Claimed', 'Unclaimed', 'Matched', 'Preempting', 'Drained'];
    let text = '';
    let last = '';
    // the pool settles (a slot freed by the DAG's last job goes back) and the daemon's copy follows the streams:
    // wait until the three agree on every figure
    await pool
      .waitFor('/metrics to agree with dq -totals and dstatus -total', async () => {
        const totals = await pool.run('dq', ['-totals', '-allusers']);
        const slots = await pool.run('dstatus', ['-total']);
        text = (await web(pool, '/metrics')).text;
        const m =
          /Total for all users: (\d+) jobs; (\d+) completed, (\d+) removed, (\d+) idle, (\d+) running, (\d+) held, (\d+) suspended/.exec(
            totals.stdout,
          );
        const s = /^\s+Total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(slots.stdout);
        if (!m || !s) throw new Error(`unexpected output: ${totals.stdout}${slots.stdout}`);
        const want = [m[1], ...m.slice(2), s[1], ...s.slice(2)].map(Number);
        const got = [
          metric(text, 'dsched_jobs'),
          ...JOB_STATES.map((st) => metric(text, 'dsched_jobs', { state: st })),
          metric(text, 'dsched_slots', { state: 'total' }),
          ...SLOT_STATES.map((st) => metric(text, 'dsched_slots', { state: st })),
        ];
        last = `dq/dstatus ${want.join(' ')} vs /metrics ${got.join(' ')}`;
        return want.join(' ') === got.join(' ') && want[0]! > 0;
      })
      .catch((e) => {
        throw new Error(`${last}\n${(e as Error).message.slice(0, 500)}`);
      });
    for (const name of [
      'dsched_negotiation_cycles_total',
      'dsched_queue_commits_total',
      'dsched_transfer_bytes_total',
      'dsched_schedd_rpc_calls_total',
      'dsched_dag_nodes',
    ])
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
  });

  test('web – /v1/history goes on after a job that was rotated out of the history between two pages', async () => {
    pool.file('rotated.sub', 'executable = /bin/true\nhold = true\nqueue 3\n');
    const cluster = await pool.submit('rotated.sub');
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    const ids = (ads: Array<Record<string, unknown>>) => ads.map((a) => `${a.ClusterId}.${a.ProcId}`);
    const first = await web(pool, '/v1/history?limit=2');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(ids(first.json.jobs), [`${cluster}.2`, `${cluster}.1`]);
    // the history keeps only its newest job now: the page's last job (and all before it) rotated out
    await pool.reconfigure('MAX_HISTORY_JOBS = 1\n', ['schedd']);
    try {
      assert.deepEqual(ids(await pool.json('dhistory', [])), [`${cluster}.2`]);
      const second = await web(pool, `/v1/history?limit=2&after=${first.json.next}`);
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(second.json.jobs, [], 'nothing finished before it is left');
      assert.equal(second.json.next, null);
    } finally {
      await pool.reconfigure('MAX_HISTORY_JOBS = 100000\n', ['schedd']);
    }
  });
});
