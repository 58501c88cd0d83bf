// What HTCondor users type, as condor_submit and condor_q take it: -a commands that override the file even
// when -a also gives the queue statement; condor_q -submitter NAME (or NAME@domain) for that user's jobs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('htcondor habits – condor_submit and condor_q options', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('htcondor habits – dsubmit FILE -a "arguments = …" -a "queue 2": the -a command wins over the file', async () => {
    pool.file('a.sub', 'executable = /bin/echo\narguments = from-file\noutput = a.$(Process).out\n');
    const cluster = await pool.submit('a.sub', ['-a', 'arguments = appended $(Process)', '-a', 'queue 2']);
    assert.equal((await pool.run('dwait', [String(cluster)])).code, 0);
    assert.equal(pool.read('a.0.out'), 'appended 0\n');
    assert.equal(pool.read('a.1.out'), 'appended 1\n');
  });

  test(
    "htcondor habits – dq -submitter NAME lists that user's jobs, NAME@domain too",
    { skip: process.getuid?.() !== 0 && 'needs root to submit as another user' },
    async () => {
      pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
      const mine = await pool.submit('held.sub');
      const theirs = await pool.submit('held.sub', [], {
        uid: 65534,
        gid: 65534,
        env: { USER: 'nobody', HOME: '/tmp' },
      });
      const owners = async (args: string[]) => {
        const r = await pool.run('dq', [...args, '-af', 'ClusterId', 'Owner']);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      assert.equal(await owners(['-submitter', 'nobody']), `${theirs} nobody\n`);
      assert.equal(
        await owners(['-submitter', 'root@example.org', '-constraint', `ClusterId == ${mine}`]),
        `${mine} root\n`,
      );
      const bad = await pool.run('dq', ['-submitter', 'a b']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /-submitter: 'a b' is not a user name/);
      assert.equal((await pool.run('drm', [String(mine), String(theirs)])).code, 0);
    },
  );
});
