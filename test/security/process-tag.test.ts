// With environ process tracking, a job's processes are those carrying its secret tag (and its process group, and
// their descendants). The startd's record of its running jobs (run/startd-jobs.json) held every job's tag and
// was readable by every local user: one (uid 65534) could run a process carrying the tag of root's job, whose
// memory the startd then counted against root's job (held over its limit) and whose signals were the job's. The
// record is root's alone (0600), and no file of the pool a user can read names a tag.
import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runChild, TestPool } from '../integration/harness/pool.js';
import { NOBODY } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe("security – a job's process tag stays secret", { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ STARTD_PROCESS_TRACKING: 'environ' });
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – another user cannot read a running job's tag from the startd's record or any file of the pool", async () => {
    pool.file('sleep.sub', 'executable = /bin/sleep\narguments = 600\nqueue\n');
    const cluster = await pool.submit('sleep.sub');
    const record = join(pool.home, 'run', 'startd-jobs.json');
    const tag = await pool.waitFor('the running job to be recorded with its tag', () => {
      try {
        return /"tag":"([^"]+)"/.exec(readFileSync(record, 'utf8'))?.[1];
      } catch {
        return undefined;
      }
    });
    assert.equal(statSync(record).mode & 0o777, 0o600);
    const env = { ...pool.env, ...NOBODY.env };
    const cat = await runChild('/bin/cat', [record], { ...NOBODY, env }, pool.work);
    assert.notEqual(cat.code, 0, 'nobody reads the record');
    assert.doesNotMatch(cat.stdout, new RegExp(tag));
    const grep = await runChild('/bin/grep', ['-rlsF', tag, pool.home], { ...NOBODY, env }, pool.work);
    assert.equal(grep.stdout, '', `files of the pool nobody reads that name the tag: ${grep.stdout}`);
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
  });
});
