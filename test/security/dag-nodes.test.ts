// The schedd (root) reads and keeps every running DAG in its own memory: a DAG of a million nodes took 800 MB of
// it and 22 s in which it answered no one, and a user may run many. A user's running DAGs hold at most
// DAGMAN_MAX_NODES_PER_OWNER nodes in all; a DAG past what is left is held with the reason, and nothing of it
// is queued.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – DAG nodes per owner', { skip: needsRoot }, () => {
  let pool: TestPool;
  let user: ReturnType<typeof nobodyFolder>;
  before(async () => {
    pool = await TestPool.start({ DAGMAN_MAX_NODES_PER_OWNER: '100' });
    user = nobodyFolder(pool.work);
    // nodes that stay queued while the test looks (they match no slot)
    user.put('n.sub', 'executable = /bin/true\nrequirements = false\nqueue\n');
  });
  after(async () => {
    await pool?.stop();
  });

  /** nobody's DAG of `nodes` nodes, submitted; its DAG job's cluster. */
  async function dag(name: string, nodes: number): Promise<number> {
    user.put(name, Array.from({ length: nodes }, (_, i) => `JOB N${i} n.sub\n`).join(''));
    const r = await pool.run('dsubmit-dag', [name], { ...NOBODY, cwd: user.dir });
    assert.equal(r.code, 0, r.stderr);
    return Number(/cluster (\d+)/.exec(r.stdout)![1]);
  }
  const held = (cluster: number) =>
    pool.waitFor(`DAG job ${cluster} to be held`, async () =>
      (await pool.json('dq', [String(cluster), '-allusers'])).find((a) => a.JobStatus === 5),
    );
  const nodeJobs = async (dagCluster: number) =>
    (await pool.json('dq', ['-allusers', '-constraint', `DAGManJobId == ${dagCluster}`])).length;

  test("security – a DAG past a user's DAGMAN_MAX_NODES_PER_OWNER is held, and queues nothing", async () => {
    const big = await dag('big.dag', 150);
    const ad = await held(big);
    assert.match(String(ad.HoldReason), /DAGMAN_MAX_NODES_PER_OWNER/, String(ad.HoldReason));
    assert.equal(await nodeJobs(big), 0);
  });

  test("security – a user's running DAGs count together against DAGMAN_MAX_NODES_PER_OWNER", async () => {
    const first = await dag('first.dag', 60);
    await pool.waitFor('the first DAG to queue its nodes', async () => (await nodeJobs(first)) === 60);
    const second = await dag('second.dag', 60);
    const ad = await held(second);
    assert.match(String(ad.HoldReason), /DAGMAN_MAX_NODES_PER_OWNER/, String(ad.HoldReason));
    assert.equal(await nodeJobs(second), 0);
    assert.equal(await nodeJobs(first), 60, 'the first DAG runs on');
  });
});
