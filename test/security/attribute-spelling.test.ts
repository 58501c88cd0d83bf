// ClassAd attribute names are case-insensitive, but the schedd's submit checks read a job's files, owner and
// status by name. A local user (uid 65534) who spells a checked attribute otherwise (`+iwd`, `+USERLOG`) meets the
// same checks: the pool's own directory stays refused as a job's folder, log or executable, and nothing is queued.
// (A client that sends one name in two spellings is refused: test/unit/schedd/submit-checks.test.ts.)
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – attribute names in any spelling', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – the pool's own directory named as +iwd or +userlog in another spelling is refused", async () => {
    const { dir, put } = nobodyFolder(pool.work);
    for (const attr of [`+iwd = "${pool.home}"`, `+USERLOG = "${pool.home}/evil.log"`, `+cMd = "${pool.home}/x"`]) {
      const r = await pool.run('dsubmit', [put('spell.sub', `executable = /bin/true\n${attr}\nqueue\n`)], {
        ...NOBODY,
        cwd: dir,
      });
      assert.notEqual(r.code, 0, `${attr}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[JOB_FILE_REFUSED\].*pool's own directory/, `${attr}: ${r.stderr}`);
    }
    assert.deepEqual(await pool.json('dq', ['-allusers']), [], 'nothing was queued');
  });
});
