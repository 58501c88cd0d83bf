// dhold, drelease and drm of whole clusters go set-based (a statement per piece of jobs) and the schedd tells
// watchers of the procs that changed alike in one message: users see what they saw job by job – the same
// counts, one user-log event per job, another user's jobs refused and untouched – and a dwait or dq -watch
// of a cluster removed whole returns. A few thousand jobs: behaviour only, bench/big-queue.ts measures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobChange__Output } from '../../lib/rpc/generated/dsched/v1/JobChange.js';
import { DIST, TestPool } from './harness/pool.js';

const JOBS = 3000;
const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('whole-cluster actions – set-based, as users saw them job by job', () => {
  let pool: TestPool;
  let mine: number;
  let theirs: number;

  const events = (log: string, code: string) =>
    pool
      .read(log)
      .split('\n')
      .filter((l) => l.startsWith(`${code} `)).length;
  async function statuses(cluster: number, user?: typeof NOBODY): Promise<Map<number, number>> {
    const r = await pool.run('dq', [String(cluster), '-af', 'JobStatus'], user);
    assert.equal(r.code, 0, r.stderr);
    const out = new Map<number, number>();
    for (const s of r.stdout.split('\n').filter(Boolean).map(Number)) out.set(s, (out.get(s) ?? 0) + 1);
    return out;
  }

  before(async () => {
    pool = await TestPool.start();
    // idle jobs that never run (no machine matches): only the actions change them
    pool.file('mine.sub', `executable = /bin/true\nrequirements = false\nlog = mine.log\nqueue ${JOBS}\n`);
    mine = await pool.submit('mine.sub');
    pool.file('theirs.sub', 'executable = /bin/true\nrequirements = false\nlog = theirs.log\nqueue 20\n', 0o666);
    const r = await pool.run('dsubmit', ['theirs.sub'], NOBODY);
    assert.equal(r.code, 0, r.stderr);
    theirs = Number(/cluster (\d+)/.exec(r.stdout)?.[1]);
  });
  after(async () => {
    await pool?.stop();
  });

  test('dhold of a cluster holds every job, one held event each, with the reason and code of a user hold', async () => {
    const r = await pool.run('dhold', [String(mine)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${JOBS} job\\(s\\) held`, 'm'));
    assert.deepEqual(await statuses(mine), new Map([[5, JOBS]]));
    assert.equal(events('mine.log', '012'), JOBS);
    const ad = await pool.run('dq', [`${mine}.7`, '-af', 'HoldReason', 'HoldReasonCode', 'HoldReasonSubCode']);
    assert.equal(ad.stdout.trim(), 'via dhold (by user root) 1 0');
    const totals = await pool.run('dq', ['-totals', String(mine)]);
    assert.match(
      totals.stdout,
      new RegExp(`Total for query: ${JOBS} jobs; 0 completed, 0 removed, 0 idle, 0 running, ${JOBS} held`),
    );
    // a second hold finds them held, each refused as before
    const again = await pool.run('dhold', [String(mine)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already held/);
    assert.equal(events('mine.log', '012'), JOBS, 'no second event');
  });

  test("another user's hold or release of the cluster is refused, and nothing of it changes", async () => {
    for (const cmd of ['drelease', 'dhold', 'drm']) {
      const r = await pool.run(cmd, [String(mine)], NOBODY);
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /PERMISSION_DENIED|permission denied/);
    }
    assert.deepEqual(await statuses(mine), new Map([[5, JOBS]]));
    assert.equal(events('mine.log', '013'), 0);
    assert.equal(events('mine.log', '009'), 0);
  });

  test('drelease of a cluster releases every job, one released event each, the hold reason kept as LastHoldReason', async () => {
    const r = await pool.run('drelease', [String(mine)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${JOBS} job\\(s\\) released`, 'm'));
    assert.deepEqual(await statuses(mine), new Map([[1, JOBS]]));
    assert.equal(events('mine.log', '013'), JOBS);
    const ad = await pool.run('dq', [`${mine}.2999`, '-af', 'HoldReason', 'LastHoldReason', 'ReleaseReason']);
    assert.equal(ad.stdout.trim(), 'undefined via dhold (by user root) via drelease (by user root)');
    // the other user's cluster was never touched
    assert.deepEqual(await statuses(theirs, NOBODY), new Map([[1, 20]]));
    assert.equal(events('theirs.log', '012'), 0);
  });

  test('the hold and the release survive a restart of the schedd as they were made', async () => {
    assert.equal((await pool.run('dhold', [String(mine), '-reason', 'for the restart'])).code, 0);
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    await pool.waitFor('the schedd to answer', async () => (await pool.run('dq', ['-totals'])).code === 0);
    assert.deepEqual(await statuses(mine), new Map([[5, JOBS]]));
    const ad = await pool.run('dq', [`${mine}.11`, '-af', 'HoldReason', 'HoldReasonCode', 'LastHoldReason']);
    assert.equal(ad.stdout.trim(), 'for the restart 1 via dhold (by user root)');
    assert.equal((await pool.run('drelease', [String(mine)])).code, 0);
    assert.deepEqual(await statuses(mine), new Map([[1, JOBS]]));
  });

  test('a watcher that reads spans hears of a removed cluster in a few messages; dq -watch and dwait of it return', async () => {
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
    // dq -watch prints its bars once it has read the queue: from then on it follows the stream
    const watch = spawn(process.execPath, [join(DIST, 'cli', 'dq.js'), '-watch', String(mine)], {
      cwd: pool.work,
      env: pool.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let watched = '';
    watch.stdout.on('data', (d) => (watched += d));
    const watchExit = new Promise<number>((resolve) => watch.on('close', (c) => resolve(c ?? -1)));
    const dwait = pool.run('dwait', [String(mine), '-wait', '120'], { timeoutMs: 150_000 });
    try {
      const stream = client.jobChanges({
        ids: [{ cluster: mine, proc: -1 }],
        owners: [],
        projection: ['JobStatus'],
        spans: true,
      });
      const gone = new Set<number>();
      let messages = 0;
      let synced = false;
      // the stream has the cluster (its first sync message) before the removal: a stream the schedd took
      // after it would hear of nothing
      let told!: () => void;
      const syncedNow = new Promise<void>((resolve) => (told = resolve));
      const done = new Promise<void>((resolve, reject) => {
        stream.on('data', (m: JobChange__Output) => {
          if (Number(m.id?.proc) === -1) {
            synced = true;
            told();
            return;
          }
          if (!synced || !m.gone) return;
          messages++;
          const spans = m.procs.length ? m.procs : [{ first: Number(m.id?.proc), last: Number(m.id?.proc) }];
          for (const s of spans) for (let p = s.first; p <= s.last; p++) gone.add(p);
          if (gone.size === JOBS) resolve();
        });
        stream.on('error', reject);
      });
      await pool.waitFor('dq -watch to show the cluster', () => /cluster/.test(watched));
      await syncedNow;
      const rm = await pool.run('drm', [String(mine)]);
      assert.equal(rm.code, 0, rm.stderr);
      await done;
      stream.cancel();
      assert.ok(messages <= 5, `${JOBS} removed jobs told in ${messages} messages`);
      assert.equal(await watchExit, 1, 'dq -watch ends: every job left, removed');
      const w = await dwait;
      assert.equal(w.code, 1, `dwait returns once they are gone (removed: exit 1): ${w.stderr}`);
      assert.match(w.stdout, new RegExp(`job ${mine}\\.0 was removed`));
    } finally {
      watch.kill();
      client.close();
    }
  });
});
