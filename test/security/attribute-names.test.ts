// A submission names its attributes, and a client that is no dsubmit (uid 65534 with its own token, calling
// Schedd.Submit itself) may send any string as a name: a NUL, a newline, a megabyte. dqedit refused such names,
// Submit queued them, and a job queued with one was left out of its owner's dq listings. Submit now takes the
// names dqedit takes: ClassAd words of at most 256 characters. Likewise values: one no ClassAd parser reads back
// (a NUL inside a string) threw wherever the schedd evaluated the job, and stopped the periodic policies of
// every job after it, root's too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY } from './nobody.js';

describe('attribute names – what a submission may name', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  let pool: TestPool;
  let schedd: ScheddClient;
  before(async () => {
    pool = await TestPool.start({ PERIODIC_EXPR_INTERVAL: '1' });
    const t = await pool.run('dsched', ['token', 'create'], NOBODY);
    assert.equal(t.code, 0, t.stderr);
    const token = t.stdout.trim();
    schedd = new ScheddClient(pool.daemonAddress('schedd'), {
      tls: { ca: readFileSync(join(pool.home, 'host', 'ca.crt')) },
      token: () => token,
    });
  });
  after(async () => {
    schedd?.close();
    await pool?.stop();
  });

  test('security – a submission naming an attribute with a NUL, a newline or a megabyte is refused whole', async () => {
    for (const name of ['A\0B', 'X\nOwner', 'Quote"d', '9Lives', 'A'.repeat(1 << 20)]) {
      const { cluster } = await schedd.newCluster();
      await assert.rejects(
        schedd.submit(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5', [name]: '1' }, 1),
        (e: { code?: string }) => e.code === 'SUBMIT_INVALID',
        `name ${JSON.stringify(name.slice(0, 20))}`,
      );
    }
    const jobs = await pool.json('dq', ['-allusers']);
    assert.deepEqual(jobs, [], 'nothing was queued');
    // the names dsubmit writes are taken
    const { cluster } = await schedd.newCluster();
    await schedd.submit(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5', My_Attr2: '1' }, 1);
    const queued = await pool.json('dq', ['-allusers']);
    assert.equal(queued.length, 1, 'the job with an ordinary name is queued');
    assert.equal(queued[0]!.My_Attr2, 1);
    await pool.run('drm', ['-all'], NOBODY);
  });

  test("security – a value no ClassAd parser reads is refused, and root's periodic policy still acts", async () => {
    const { cluster } = await schedd.newCluster();
    await assert.rejects(
      schedd.submit(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5', Note: '"a\0b"', PeriodicRemove: 'true' }, 1),
      (e: { code?: string }) => e.code === 'SUBMIT_INVALID',
    );
    // root's held job, queued after, is removed by its own policy
    const mine = await pool.submit(
      pool.file('policy.sub', 'executable = /bin/true\nhold = true\nperiodic_remove = true\nqueue\n'),
    );
    const [ad] = await pool.waitForHistory(mine, 1);
    assert.equal(ad!.JobStatus, 3, 'removed by its periodic_remove');
  });
});
