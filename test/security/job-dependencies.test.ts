// PBS before dependencies change the job they name: another user may not place one on your job.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe("job dependencies – a before dependency names only its submitter's jobs", () => {
  let pool: TestPool;
  let userDir: string;
  before(async () => {
    pool = await TestPool.start();
    userDir = join(pool.work, 'user');
    mkdirSync(userDir, { mode: 0o755 });
    writeFileSync(join(userDir, 'b.sh'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    chownSync(join(userDir, 'b.sh'), NOBODY.uid, NOBODY.gid);
    chownSync(userDir, NOBODY.uid, NOBODY.gid);
  });
  after(async () => {
    await pool?.stop();
  });

  test("job dependencies – nobody's beforeok on root's job waiting with on:1 is refused; root's job and the queue are untouched", async () => {
    pool.file('a.sh', '#!/bin/sh\ntrue\n', 0o755);
    const a = await pool.submit('a.sh', ['-W', 'depend=on:1']);
    const [was] = await pool.json('dq', [String(a)]);
    // had it been placed, nobody's failing job would get root's job removed (afterok can never hold)
    const r = await pool.run('dsubmit', ['-W', `depend=beforeok:${a}`, 'b.sh'], { ...NOBODY, cwd: userDir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`error\\[PERMISSION_DENIED\\]: dependency beforeok:${a}: job ${a} is not yours`));
    const all = await pool.json('dq', ['-allusers']);
    assert.deepEqual(
      all.map((j) => j.ClusterId),
      [a],
      'nothing of nobody queued',
    );
    assert.equal(all[0]!.PbsDepend, was!.PbsDepend);
    assert.equal(all[0]!.PbsDepend, 'on:1');
    assert.equal(all[0]!.JobStatus, 5);
  });
});
