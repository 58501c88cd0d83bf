// Cluster ids continue from the last queued cluster when the schedd opens its queue again (after a restart or
// a crash), instead of jumping ahead; an id is never given to two clusters.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JobQueue } from '../../../daemons/schedd/queue.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-ids-'));
const file = join(dir, 'q.db');

function open() {
  const db = openQueueDb(file);
  return { q: new JobQueue(db), close: () => db.close() };
}

function queueOne(q: JobQueue, owner = 'alice'): number {
  const c = q.reserveCluster(owner);
  q.submit(c, owner, { Owner: JSON.stringify(owner), ClusterId: String(c), JobStatus: '1', Cmd: '"/bin/true"' }, [
    { ProcId: '0' },
  ]);
  return c;
}

describe('schedd cluster ids', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('cluster ids – numbering continues after the queue is opened again', () => {
    const a = open();
    const first = [queueOne(a.q), queueOne(a.q)];
    a.close();
    const b = open();
    const next = queueOne(b.q);
    b.close();
    assert.deepEqual([...first, next], [first[0]!, first[0]! + 1, first[0]! + 2]);
  });

  test('cluster ids – an id reserved but never queued before a crash is reused, and only once', () => {
    const a = open();
    const queued = queueOne(a.q);
    const lost = a.q.reserveCluster('alice'); // the submitter died before queueing it
    a.close();
    const b = open();
    const again = b.q.reserveCluster('bob');
    assert.equal(lost, queued + 1);
    assert.equal(again, lost);
    b.q.submit(again, 'bob', { Owner: '"bob"', ClusterId: String(again), JobStatus: '1', Cmd: '"/bin/true"' }, [
      { ProcId: '0' },
    ]);
    // the first submitter coming back with its old reservation cannot queue a second cluster of that id
    assert.throws(() =>
      b.q.submit(lost, 'alice', { Owner: '"alice"', ClusterId: String(lost), JobStatus: '1', Cmd: '"/bin/true"' }, [
        { ProcId: '0' },
      ]),
    );
    b.close();
  });
});
