// An evicted job's output (when_to_transfer_output = ON_EXIT_OR_EVICT: its checkpoint) waits in the schedd's
// spool for its next run. The spool is root's, so no user's quota bounds what is written there, and a sparse
// file costs the job nothing to make: a job that left a sparse file of any size had the schedd write it out
// whole into its spool, and could fill the disk the queue lives on for everyone. Past MAX_SPOOLED_OUTPUT the
// checkpoint is dropped (nothing of it stays in the spool) and the job is held with a reason naming the bound.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – an evicted job’s output in the spool', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    // the machine evicts the job once, after 2 s of its first run
    pool = await TestPool.start({
      POLLING_INTERVAL: '1',
      PREEMPT: 'TARGET.CheckpointTest =?= true && TARGET.NumJobStarts == 0 && (time() - MY.EnteredCurrentActivity) > 2',
      MAX_SPOOLED_OUTPUT: '4MB',
    });
  });
  after(async () => {
    await pool?.stop();
  });

  test('a checkpoint past MAX_SPOOLED_OUTPUT (a sparse file) is not kept, and the job is held', async () => {
    const user = nobodyFolder(pool.work);
    user.put(
      'ck.sh',
      [
        '#!/bin/sh',
        // when evicted, it leaves a sparse file of 64 MB: no block of its own on the execute host
        "trap 'truncate -s 64M ckpt.bin; exit 0' QUIT",
        'i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
      ].join('\n') + '\n',
      0o755,
    );
    const sub = user.put(
      'ck.sub',
      'executable = ck.sh\nshould_transfer_files = YES\nwhen_to_transfer_output = ON_EXIT_OR_EVICT\nkill_sig = SIGQUIT\n+CheckpointTest = true\nqueue\n',
    );
    const cluster = await pool.submit(sub, [], { ...NOBODY, cwd: user.dir });
    const held = await pool.waitFor('the job to be held', async () => {
      const [ad] = await pool.json('dq', [String(cluster)]);
      return ad?.JobStatus === 5 ? ad : undefined;
    });
    assert.match(String(held.HoldReason), /MAX_SPOOLED_OUTPUT/, String(held.HoldReason));
    assert.equal(held.HoldReasonCode, 12, 'held as output that did not come back');
    assert.equal(existsSync(join(pool.home, 'spool', `${cluster}.0`)), false, 'nothing of it is in the spool');
  });
});
