// Priority preemption on a real pool: with PREEMPTION_REQUIREMENTS set and one cpu, a long job of a user
// with a bad priority factor is evicted (event 004 in its log) and goes back to idle when a user with a better
// priority submits; the better user's job runs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sleep, TestPool } from './harness/pool.js';

const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('preemption', { skip: !asRoot && 'needs root to submit as a second user' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '1', PREEMPTION_REQUIREMENTS: 'RemoteUserPrio > SubmitterUserPrio * 1.2' });
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (file: string, opts = {}) => pool.submit(file, [], opts);
  const status = async (cluster: number) => (await pool.json('dq', [String(cluster)]))[0]?.JobStatus;

  test('preemption – a better-priority user evicts a running job, which goes back to idle', async () => {
    pool.file('long.sub', 'executable = /bin/sleep\narguments = 600\nlog = long.log\nqueue\n');
    const a = await submit('long.sub');
    await pool.waitFor('the long job to run', async () => (await status(a)) === 2);
    const owner = String((await pool.json('dq', [String(a)]))[0]!.Owner);
    // the long job's submitter gets a bad priority factor (admins only; this test can read the pool's token key)
    const account = await pool.waitFor(`the negotiator to account for ${owner}`, async () => {
      const list = JSON.parse((await pool.run('duserprio', ['-allusers', '-json'])).stdout) as Array<{ name: string }>;
      return list.find((s) => s.name.startsWith(`${owner}@`))?.name;
    });
    const set = await pool.run('duserprio', ['-setfactor', account, '100']);
    assert.equal(set.code, 0, set.stderr);

    // nobody (a new submitter, priority 0.5) submits a job that runs until the test has seen it run (a job of
    // a fixed length could end unseen on a busy machine, and the evicted one run again meanwhile); the shell
    // is larger than sleep, so it asks for no more disk than the slot it takes over has
    const gate = join(pool.work, 'short.go');
    pool.file(
      'short.sub',
      `executable = /bin/sh\narguments = "-c 'while [ ! -e ${gate} ]; do sleep 0.2; done'"\nrequest_disk = 1\nlog = short.log\nqueue\n`,
    );
    const b = await submit('short.sub', NOBODY);
    await pool.waitFor(
      'the long job to be evicted (event 004)',
      () => pool.exists('long.log') && /^004 /m.test(pool.read('long.log')),
    );
    assert.match(pool.read('long.log'), /^004 [\s\S]*Job was evicted/m);
    // while the better user's job runs on the only cpu, the evicted one waits in the queue
    await pool.waitFor(
      'the short job to run while the long one is idle',
      async () => (await status(b)) === 2 && (await status(a)) === 1,
    );
    assert.match(pool.read('short.log'), /^001 /m);
    pool.file('short.go', '');
    const [done] = await pool.waitForHistory(b, 1);
    assert.equal(done!.ExitCode, 0);
    // the evicted job was not preempted twice for one job, and it was never held or removed
    assert.equal((pool.read('long.log').match(/^004 /gm) ?? []).length, 1);
    assert.notEqual(await status(a), 5);
    await pool.run('drm', [String(a)]);
  });

  test('preemption – no priority preemption when PREEMPTION_REQUIREMENTS does not hold', async () => {
    // the factor above stays: the long job's user is worse, but nobody now has a worse priority still
    pool.file('long2.sub', 'executable = /bin/sleep\narguments = 600\nlog = long2.log\nqueue\n');
    const a = await submit('long2.sub');
    await pool.waitFor('the second long job to run', async () => (await status(a)) === 2);
    const list = JSON.parse((await pool.run('duserprio', ['-allusers', '-json'])).stdout) as Array<{ name: string }>;
    const nobody = list.find((s) => s.name.startsWith('nobody@'))!.name;
    assert.equal((await pool.run('duserprio', ['-setfactor', nobody, '100000'])).code, 0);
    pool.file('short2.sub', 'executable = /bin/true\nlog = short2.log\nqueue\n');
    const b = await submit('short2.sub', NOBODY);
    // the negotiator runs a cycle on every queue change and at least every NEGOTIATOR_INTERVAL (5 s in tests):
    // over two intervals it has looked at the idle job several times, and nothing may be evicted meanwhile
    const until = Date.now() + 2 * 5000 + 2000;
    while (Date.now() < until) {
      assert.doesNotMatch(pool.read('long2.log'), /^004 /m);
      assert.equal(await status(b), 1);
      await sleep(250);
    }
    assert.equal(await status(a), 2);
    assert.equal(await status(b), 1);
    assert.doesNotMatch(pool.read('long2.log'), /^004 /m);
    await pool.run('drm', [String(a)]);
    await pool.waitForHistory(b, 1);
  });
});
