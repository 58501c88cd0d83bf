// What HTCondor users type, as condor_submit and condor_q take it: -a commands that override the file even
// when -a also gives the queue statement.
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
});
