// A submission larger than one piece is written a piece per transaction and stands only once its last one
// is committed: a schedd that stops half-way drops it when it opens the queue again, and changes committed
// between its pieces stay. A whole-cluster removal is set-based and leaves the history as finish() would.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JobQueue, SUBMIT_PIECE } from '../../../daemons/schedd/queue.js';
import { JobStatus } from '../../../lib/job-status.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-large-'));
const file = join(dir, 'q.db');
const PROCS = 2 * SUBMIT_PIECE + 123;

function open() {
  const db = openQueueDb(file);
  return { db, q: new JobQueue(db), close: () => db.close() };
}

const clusterAd = (owner: string, c: number, status: number) => ({
  Owner: JSON.stringify(owner),
  ClusterId: String(c),
  JobStatus: String(status),
  Cmd: '"/bin/true"',
});
const procs = (n: number) => Array.from({ length: n }, (_, i) => ({ ProcId: String(i) }));

describe('schedd large submissions', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('large submission – a schedd stopped between pieces drops it, and keeps what was committed meanwhile', () => {
    const a = open();
    const small = a.q.reserveCluster('alice');
    const [job] = a.q.submit(small, 'alice', clusterAd('alice', small, JobStatus.Idle), [{ ProcId: '0' }]);
    const big = a.q.reserveCluster('alice');
    const steps = a.q.submission(big, 'alice', clusterAd('alice', big, JobStatus.Held), procs(PROCS));
    assert.equal(steps.next().done, false, 'the first piece is written, the submission goes on');
    // a change made between pieces is committed on its own
    a.q.update(job!, { JobPrio: '7' });
    a.q.flush();
    assert.equal(steps.next().done, false);
    assert.equal(a.q.jobs.size, 1, 'nothing of the submission is in the queue before its last piece');
    a.close(); // the schedd stops here

    const b = open();
    assert.equal(b.q.jobs.size, 1);
    assert.equal(b.q.jobs.get(`${small}.0`)?.prio, 7);
    assert.equal(
      (b.db.prepare('SELECT COUNT(*) AS n FROM jobs WHERE cluster_id = ?').get(big) as { n: number }).n,
      0,
      'no row of it is left',
    );
    assert.deepEqual([...b.q.allCounts], [0, 1, 0, 0, 0, 0, 0, 0]);
    b.close();
  });

  test('large submission – once its last piece is committed it is all there, counted, after a restart too', () => {
    const a = open();
    const big = a.q.reserveCluster('bob');
    let pieces = 0;
    const steps = a.q.submission(big, 'bob', clusterAd('bob', big, JobStatus.Held), procs(PROCS));
    for (let n = steps.next(); !n.done; n = steps.next()) pieces++;
    assert.equal(pieces, 2, 'three pieces, two pauses');
    assert.equal(a.q.ownerCounts('bob')[JobStatus.Held], PROCS);
    a.close();
    const b = open();
    assert.equal(b.q.ownerCounts('bob')[JobStatus.Held], PROCS);
    assert.equal([...b.q.byCluster(big)].length, PROCS);
    assert.equal(b.q.submitterCounts().get('bob')?.byStatus[JobStatus.Held], PROCS);
    b.close();
  });

  test('whole-cluster removal – set-based, into history as finish() writes it, counts follow', () => {
    const a = open();
    const c = a.q.reserveCluster('carol');
    const jobs = a.q.submit(c, 'carol', clusterAd('carol', c, JobStatus.Held), procs(1000));
    const changed: number[] = [];
    a.q.onFlushed = (js) => changed.push(js.length);
    a.q.removeProcs(c, jobs.slice(0, 400), 'via drm (by user carol)');
    assert.deepEqual(changed, [400], 'watchers hear of the removed jobs');
    assert.equal(a.q.ownerCounts('carol')[JobStatus.Held], 600);
    assert.equal(jobs[0]!.status, JobStatus.Removed);
    a.q.removeProcs(c, jobs.slice(400), 'via drm (by user carol)');
    assert.equal(a.q.ownerCounts('carol')[JobStatus.Held], 0);
    assert.equal(a.q.clusters.has(c), false, 'the emptied cluster is gone');
    a.close();
    const b = open();
    assert.equal([...b.q.byCluster(c)].length, 0);
    const h = b.q.historyOfCluster(c);
    assert.equal(h.length, 1000);
    for (const r of h) {
      assert.equal(r.status, JobStatus.Removed);
      assert.equal(r.ad.JobStatus, '3');
      assert.equal(r.ad.RemoveReason, '"via drm (by user carol)"');
      assert.equal(r.ad.CompletionDate, '0');
      assert.equal(r.ad.Owner, '"carol"', 'the cluster ad is there');
    }
    b.close();
  });

  test('whole-cluster hold and release – set-based, the same rows and counts as update() job by job', () => {
    const a = open();
    const [c, d] = [a.q.reserveCluster('dave'), a.q.reserveCluster('dave')];
    // LastHoldReason hides the cluster's with undefined when removed, as update() does
    const shared = { ...clusterAd('dave', c, JobStatus.Idle), Requirements: 'false', LastHoldReason: '"before"' };
    const sets = a.q.submit(c, 'dave', shared, procs(500));
    const each = a.q.submit(d, 'dave', { ...shared, ClusterId: String(d) }, procs(500));
    const hold = { HoldReason: '"via dhold"', HoldReasonCode: '1', HoldReasonSubCode: '0', ReleaseWhenStopped: null };
    const changed: number[] = [];
    a.q.onFlushed = (js) => changed.push(js.length);
    a.q.changeProcs(c, [{ jobs: sets, changes: hold }], JobStatus.Held);
    assert.deepEqual(changed, [500], 'watchers hear of the changed jobs');
    a.q.atomically(() => each.forEach((j) => a.q.update(j, hold, JobStatus.Held)));
    assert.equal(a.q.ownerCounts('dave')[JobStatus.Held], 1000);
    assert.equal(a.q.ownerCounts('dave')[JobStatus.Idle], 0);
    const release = { HoldReason: null, HoldReasonCode: null, LastHoldReason: null, ReleaseReason: '"via drelease"' };
    a.q.changeProcs(
      c,
      [
        { jobs: sets.slice(0, 200), changes: release },
        { jobs: sets.slice(200, 300), changes: { ...release, ReleaseReason: '"other"' } },
      ],
      JobStatus.Idle,
    );
    a.q.atomically(() => each.slice(0, 200).forEach((j) => a.q.update(j, release, JobStatus.Idle)));
    a.q.atomically(() =>
      each.slice(200, 300).forEach((j) => a.q.update(j, { ...release, ReleaseReason: '"other"' }, JobStatus.Idle)),
    );
    assert.equal(a.q.ownerCounts('dave')[JobStatus.Idle], 600);
    assert.equal(
      [...a.q.autoclusters.values()].filter((ac) => ac.owner === 'dave').reduce((n, ac) => n + ac.idle.size, 0),
      600,
      'released jobs are idle for matching again',
    );
    const inMemory = (js: typeof sets) =>
      js.map((j) => ({ status: j.status, attrs: { ...j.attrs, EnteredCurrentStatus: 't' } }));
    const sorted = (r: { attrs: Record<string, string> }) => Object.fromEntries(Object.entries(r.attrs).sort());
    assert.deepEqual(inMemory(sets).map(sorted), inMemory(each).map(sorted));
    a.close();
    const b = open();
    const row = (cl: number) =>
      [...b.q.byCluster(cl)].map((j) => ({
        status: j.status,
        attrs: sorted({ attrs: { ...j.attrs, EnteredCurrentStatus: 't' } }),
      }));
    assert.deepEqual(row(c), row(d), 'the rows written set-based read back as those written job by job');
    assert.deepEqual(
      row(c)
        .slice(0, 3)
        .map((r) => r.attrs.LastHoldReason),
      ['undefined', 'undefined', 'undefined'],
    );
    assert.equal(b.q.ownerCounts('dave')[JobStatus.Held], 400);
    b.close();
  });
});
