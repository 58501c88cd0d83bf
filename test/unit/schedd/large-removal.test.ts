// A removal of a large cluster is committed as one row and answered at once; its procs are shown removed
// until they move to history a piece at a time in the background. A schedd stopped in the middle resumes the
// move when it starts, and every removed job's abort event is in its user log exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JobQueue } from '../../../daemons/schedd/queue.js';
import { MOVE_PIECE } from '../../../daemons/schedd/removals.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { JobStatus } from '../../../lib/job-status.js';
import type { Identity } from '../../../lib/rpc/auth.js';
import { formatEvent } from '../../../lib/user-log/index.js';
import { makeSchedd } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-removal-'));
const PROCS = 2 * MOVE_PIECE + 321;

function open(file: string) {
  const db = openQueueDb(join(dir, file));
  return { db, q: new JobQueue(db), close: () => db.close() };
}
const procs = (n: number) => Array.from({ length: n }, (_, i) => ({ ProcId: String(i) }));
const count = (db: ReturnType<typeof openQueueDb>, sql: string, ...args: unknown[]) =>
  (db.prepare(sql).get(...args) as { n: number }).n;
/** The abort events (009) of each proc of `cluster` in a text log. */
function aborts(log: string, cluster: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /^009 \((\d+)\.(\d+)\.\d+\)/.exec(line);
    if (m && Number(m[1]) === cluster) out.set(Number(m[2]), (out.get(Number(m[2])) ?? 0) + 1);
  }
  return out;
}

describe('schedd large removals', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('large removal – committed as one row, shown removed, moved a piece at a time, resumed after a restart', () => {
    const a = open('q1.db');
    const c = a.q.reserveCluster('erin');
    const shared = { Owner: '"erin"', ClusterId: String(c), JobStatus: String(JobStatus.Held), Cmd: '"/bin/true"' };
    const jobs = a.q.submit(c, 'erin', shared, procs(PROCS));
    const r = a.q.markRemoved(c, jobs, 'via drm (by user erin)')!;
    assert.equal(count(a.db, 'SELECT COUNT(*) AS n FROM removals'), 1, 'one row says they are removed');
    assert.equal(a.q.ownerCounts('erin')[JobStatus.Removed], PROCS, 'counted removed at once');
    assert.equal(a.q.jobs.size, PROCS, 'still queued, shown X');
    assert.equal(jobs[5]!.attrs.RemoveReason, '"via drm (by user erin)"');
    const moved = a.q.moveRemoved(r, MOVE_PIECE);
    assert.equal(moved.length, MOVE_PIECE);
    assert.equal(a.q.jobs.size, PROCS - MOVE_PIECE);
    a.close(); // the schedd stops here, one piece moved

    const b = open('q1.db');
    assert.equal(b.q.removals.length, 1, 'the removal is resumed');
    assert.equal(b.q.removals[0]!.jobs.length, PROCS - MOVE_PIECE);
    assert.equal(b.q.ownerCounts('erin')[JobStatus.Removed], PROCS - MOVE_PIECE, 'still removed after the restart');
    assert.equal(b.q.ownerCounts('erin')[JobStatus.Held], 0);
    assert.equal(b.q.value(b.q.jobs.at(c, PROCS - 1)!, 'RemoveReason'), 'via drm (by user erin)');
    const rest = b.q.removals[0]!;
    while (rest.moved < rest.jobs.length) b.q.moveRemoved(rest, MOVE_PIECE);
    assert.equal(b.q.jobs.size, 0);
    assert.equal(b.q.clusters.has(c), false, 'the emptied cluster is gone');
    assert.deepEqual([...b.q.allCounts], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(count(b.db, 'SELECT COUNT(*) AS n FROM removals'), 0, 'the row went with the last piece');
    assert.equal(count(b.db, 'SELECT COUNT(*) AS n FROM clusters'), 0);
    const h = b.q.historyOfCluster(c);
    assert.equal(h.length, PROCS);
    const times = new Set(h.map((x) => x.ad.EnteredCurrentStatus));
    assert.equal(times.size, 1, 'every proc removed at the time of the drm, moved before or after the restart');
    for (const x of h) {
      assert.equal(x.status, JobStatus.Removed);
      assert.equal(x.ad.JobStatus, '3');
      assert.equal(x.ad.RemoveReason, '"via drm (by user erin)"');
    }
    b.close();
  });

  test('large removal – drm answers before the move; each abort event is logged once, across a restart too', async () => {
    const log = join(dir, 'big.log');
    writeFileSync(log, '');
    const root: Identity = { name: 'root', admin: true } as Identity;
    const a = open('q2.db');
    const s = makeSchedd(a.q);
    const c = a.q.reserveCluster('root');
    const shared = {
      Owner: '"root"',
      ClusterId: String(c),
      JobStatus: String(JobStatus.Held),
      Cmd: '"/bin/true"',
      UserLog: JSON.stringify(log),
    };
    a.q.submit(c, 'root', shared, procs(PROCS));
    // the mover starts only once the event loop turns: drm has answered before any job left
    const { done } = await s.actOnClusters(root, 'remove', [c], '');
    assert.equal(
      done.reduce((n, p) => n + p.length, 0),
      PROCS,
    );
    assert.equal(a.q.ownerCounts('root')[JobStatus.Removed], PROCS);
    assert.equal(a.q.jobs.size, PROCS, 'none has left yet');
    a.close(); // the schedd is killed before its first move

    // as a run killed after writing the first piece's abort events and before moving it leaves the log

    const b = open('q2.db');
    assert.equal(b.q.removals.length, 1);
    const r = b.q.removals[0]!;
    assert.equal(aborts(log, c).size, 0, 'no event was written before the move began');
    const written = r.jobs
      .slice(0, MOVE_PIECE)
      .map((j) =>
        formatEvent({ type: 'aborted', reason: 'via drm (by user root)', cluster: c, proc: j.proc, time: 0 }),
      );
    writeFileSync(log, written.join(''));
    const s2 = makeSchedd(b.q);
    await (s2 as unknown as { actions: { mover: { settled(): Promise<void> } } }).actions.mover.settled();
    assert.equal(b.q.jobs.size, 0, 'every job moved');
    const seen = aborts(log, c);
    assert.equal(seen.size, PROCS, 'every removed job has its abort event');
    assert.deepEqual(new Set(seen.values()), new Set([1]), 'each exactly once');
    assert.equal(b.q.historyOfCluster(c).length, PROCS);
    b.close();
  });
});
