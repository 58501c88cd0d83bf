// A submission names its cluster id, which NewCluster reserved for its user. A local user (uid 65534) who named
// instead the id of another user's cluster that had left the queue got a second cluster of that id: its jobs'
// history rows replaced the first cluster's (history is keyed by cluster and proc) and were read with the first
// cluster's ad, so another user's job record was erased and forged. Only an id reserved for the submitter, and
// not queued since, is taken.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JobQueue, RESERVED_PER_OWNER } from '../../daemons/schedd/queue.js';
import { openQueueDb } from '../../daemons/schedd/store/db.js';
import { DschedError } from '../../lib/errors.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';

test("security – the queue takes a cluster id only from its owner's reservation, never a finished cluster's", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsched-ids-'));
  const db = openQueueDb(join(dir, 'q.db'));
  try {
    const q = new JobQueue(db);
    const ad = (owner: string, c: number) => ({
      Owner: `"${owner}"`,
      ClusterId: String(c),
      JobStatus: '1',
      Cmd: '"/bin/true"',
    });
    const c = q.reserveCluster('root');
    const [job] = q.submit(c, 'root', ad('root', c), [{ ProcId: '0' }]);
    q.finish(job!, 4, { ExitCode: '3' });
    q.flush(); // the finished cluster has left the queue (and its jobs are in history)
    assert.equal(q.clusters.has(c), false);
    assert.throws(
      () => q.submit(c, 'nobody', ad('nobody', c), [{ ProcId: '0' }]),
      (e: unknown) => e instanceof DschedError && e.code === 'USAGE' && /was not reserved/.test(e.message),
    );
    const mine = q.reserveCluster('nobody');
    assert.throws(() => q.submit(mine, 'root', ad('root', mine), [{ ProcId: '0' }]), /reserved by another user/);
    assert.equal(q.submit(mine, 'nobody', ad('nobody', mine), [{ ProcId: '0' }]).length, 1);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('security – reservations never queued are bounded per user: past the bound the oldest lapses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsched-ids-'));
  const db = openQueueDb(join(dir, 'q.db'));
  try {
    const q = new JobQueue(db);
    const ad = (c: number) => ({ Owner: '"nobody"', ClusterId: String(c), JobStatus: '1', Cmd: '"/bin/true"' });
    const rootId = q.reserveCluster('root');
    const first = q.reserveCluster('nobody');
    let last = first;
    for (let i = 0; i < RESERVED_PER_OWNER; i++) last = q.reserveCluster('nobody');
    assert.equal((q as unknown as { reserved: Map<number, string> }).reserved.size, RESERVED_PER_OWNER + 1);
    assert.throws(() => q.submit(first, 'nobody', ad(first), [{ ProcId: '0' }]), /was not reserved/);
    assert.equal(q.submit(last, 'nobody', ad(last), [{ ProcId: '0' }]).length, 1);
    // another user's reservation is not theirs to push out
    assert.equal(q.submit(rootId, 'root', { ...ad(rootId), Owner: '"root"' }, [{ ProcId: '0' }]).length, 1);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('security – cluster ids', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – another user's finished cluster id cannot be queued again; its history stays the owner's", async () => {
    pool.file('root.sub', 'executable = /bin/sh\narguments = "-c \'exit 3\'"\nqueue\n');
    const cluster = await pool.submit('root.sub');
    await pool.waitForHistory(cluster, 1);
    const before = await pool.run('dhistory', [String(cluster), '-af', 'Owner', 'ExitCode', 'Cmd']);
    assert.equal(before.stdout, 'root 3 /bin/sh\n');

    const attempt = async () => {
      const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
      try {
        for (const id of [cluster, cluster + 1000]) {
          const e = await client.rpc
            .unary('Submit', {
              cluster: id,
              cluster_attrs: { Cmd: '"/bin/true"', Iwd: '"/tmp"', JobStatus: '1' },
              procs: [{ attrs: { ProcId: '0' } }],
            })
            .then(
              () => undefined,
              (err: unknown) => err,
            );
          assert.ok(e instanceof DschedError && e.code === 'USAGE', `cluster ${id}: ${String(e)}`);
          assert.match(e.message, /was not reserved for this submission/);
        }
        // its own reservation works
        const { cluster: mine } = await client.newCluster();
        const r = await client.rpc.unary('Submit', {
          cluster: Number(mine),
          cluster_attrs: { Cmd: '"/bin/true"', Iwd: '"/tmp"', JobStatus: '5' },
          procs: [{ attrs: { ProcId: '0' } }],
        });
        assert.equal(Number((r as { procs: number }).procs), 1);
      } finally {
        client.close();
      }
    };
    await attempt();
    // a schedd started again knows of no reservation made before: the finished cluster's id is still not free
    const pid = pool.daemonPid('schedd');
    process.kill(pid, 'SIGKILL');
    await pool.waitForRestart('schedd', pid);
    await pool.waitFor('the schedd to answer', async () => (await pool.run('dq', ['-allusers'])).code === 0);
    await attempt();
    assert.deepEqual(await pool.json('dq', ['-allusers', String(cluster)]), []);
    const after = await pool.run('dhistory', [String(cluster), '-af', 'Owner', 'ExitCode', 'Cmd']);
    assert.equal(after.stdout, before.stdout);
  });
});
