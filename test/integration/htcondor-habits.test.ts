// What HTCondor users type, as condor_submit and condor_q take it: -a commands that override the file even
// when -a also gives the queue statement; condor_q -submitter NAME (or NAME@domain) for that user's jobs; a
// misspelt request_* command.
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

  test('htcondor habits – a misspelt request_memory is an error at its line, not a job no slot will ever take', async () => {
    const queued = () => pool.output('dq', ['-af', 'ClusterId', 'ProcId']);
    const before = await queued();
    pool.file('typo.sub', 'executable = /bin/true\nrequest_memroy = 2GB\nqueue\n');
    const r = await pool.run('dsubmit', ['typo.sub']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /'request_memroy' asks for a machine resource named memroy; did you mean 'request_memory'\?/,
    );
    assert.match(r.stderr, /--> typo\.sub:2:18/);
    assert.equal(await queued(), before);
    // a plain number is a valid request for such a resource: queued, with the warning
    pool.file('typo-n.sub', 'executable = /bin/true\nrequest_memroy = 2048\nhold = true\nqueue\n');
    const n = await pool.run('dsubmit', ['typo-n.sub']);
    assert.equal(n.code, 0, n.stderr);
    assert.match(
      n.stderr,
      /warning: line 2: 'request_memroy' .*did you mean 'request_memory'\? \(slots without memroy/,
    );
  });
});
