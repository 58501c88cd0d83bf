// A submission streamed in pieces (Schedd.SubmitPieces) from a hostile user: a total past
// MAX_JOBS_PER_SUBMISSION is refused before a proc is kept, a stream that carries more procs than it announced
// is cut off there, another user's reserved cluster cannot be filled, and nothing is queued by any of them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DschedError } from '../../lib/errors.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';

describe('submission in pieces – refused whole', () => {
  let pool: TestPool;
  let nobody: ScheddClient;
  let root: ScheddClient;
  const attrs = { Cmd: '"/bin/true"', JobStatus: '5', Iwd: '"/tmp"' };
  const procs = (n: number) => Array.from({ length: n }, (_, i) => ({ ProcId: String(i), Args: `"${i}"` }));
  const refused = async (p: Promise<unknown>, code: string) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof DschedError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  };
  const nothingQueued = async () => {
    const totals = await pool.run('dq', ['-totals', '-allusers']);
    assert.equal(totals.code, 0, totals.stderr);
    assert.match(totals.stdout, /Total for all users: 0 jobs;/);
  };

  before(async () => {
    pool = await TestPool.start({ MAX_JOBS_PER_SUBMISSION: '1000' });
    nobody = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    root = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
  });
  after(async () => {
    nobody?.close();
    root?.close();
    await pool?.stop();
  });

  test('a total past MAX_JOBS_PER_SUBMISSION is refused with SUBMIT_QUEUE', async () => {
    for (const total of [2_147_483_647, 1001, -5]) {
      const { cluster } = await nobody.newCluster();
      await refused(nobody.submitPieces(Number(cluster), attrs, total, procs(3)), 'SUBMIT_QUEUE');
    }
    await nothingQueued();
  });

  test('a stream with more procs than it announced is cut off with SUBMIT_QUEUE', async () => {
    const { cluster } = await nobody.newCluster();
    const e = await refused(nobody.submitPieces(Number(cluster), attrs, 10, procs(1000)), 'SUBMIT_QUEUE');
    assert.match(e.message, /more procs than the 10/);
    await nothingQueued();
  });

  test("another user's reserved cluster cannot be filled", async () => {
    const { cluster } = await root.newCluster();
    await refused(nobody.submitPieces(Number(cluster), attrs, 5, procs(5)), 'PERMISSION_DENIED');
    await nothingQueued();
  });
});
