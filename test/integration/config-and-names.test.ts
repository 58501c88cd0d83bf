// Configuration applies live (a config file edit, or dsched reconfig), and names in a pool are unique:
// a second startd with a name already in the pool is refused loudly, not merged.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, sleep, TestPool } from './harness/pool.js';

describe('config and names', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('config – a new START expression and a label show in dstatus after an edit, without a restart', async () => {
    appendFileSync(
      join(pool.home, 'config'),
      'STARTD_ATTRS = Labels = "gpu,learner"\nSTART = (TARGET.Owner =!= "nobody")\n',
    );
    const slot = await pool.waitFor(
      'the label to appear',
      async () => {
        const s = await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']);
        return s[0]?.Labels === 'gpu,learner' ? s[0] : undefined;
      },
      60_000,
    );
    assert.match(String(slot.Start), /nobody/);
    const r = await pool.run('dstatus', [
      '-af',
      'Name',
      'Labels',
      '-constraint',
      'stringListMember("learner", Labels)',
    ]);
    assert.match(r.stdout, /gpu,learner/);
  });

  test('names – dstatus NAME shows that slot or machine only; -claimed and -avail select by state', async () => {
    const pslot = (await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!;
    const one = await pool.run('dstatus', [String(pslot.Name), '-af', 'Name']);
    assert.equal(one.stdout.trim(), String(pslot.Name));
    const none = await pool.run('dstatus', ['no-such-machine', '-af', 'Name']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout.trim(), '', 'an unknown name selects nothing (it used to list the whole pool)');
    pool.file('busy.sub', 'executable = /bin/sleep\narguments = 300\nqueue\n');
    const c = await pool.submit('busy.sub');
    const running = await pool.waitFor('the job to run', async () =>
      (await pool.json('dq', [String(c)])).find((j) => j.JobStatus === 2),
    );
    // the schedd shows the job running when the startd says it started; the startd's ad of the claimed slot
    // reaches the collector on its own path, maybe later
    await pool.waitFor('the claimed slot in dstatus -claimed', async () => {
      const claimed = (await pool.run('dstatus', ['-claimed', '-af', 'Name'])).stdout.trim().split('\n');
      assert.deepEqual(claimed, [String(running.RemoteHost)]);
      return true;
    });
    const avail = (await pool.run('dstatus', [String(pslot.Machine), '-avail', '-af', 'Name'])).stdout;
    assert.doesNotMatch(avail, new RegExp(String(running.RemoteHost)));
    await pool.run('drm', [String(c)]);
  });

  test('config – dsched config NAME -v tells where a value comes from', async () => {
    const r = await pool.run('dsched', ['config', 'NUM_CPUS', '-v']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /NUM_CPUS = 4/);
    assert.match(r.stdout, new RegExp(`from ${join(pool.home, 'config').replace(/[/.]/g, '\\$&')}`));
    const bad = await pool.run('dsched', ['config', 'NO_SUCH_KNOB']);
    assert.equal(bad.code, 1);
  });

  test('drain – a drained machine takes no new jobs until the drain is cancelled', async () => {
    const slot = (await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!;
    const name = String(slot.StartdName);
    const d = await pool.run('dsched', ['drain', name, '-reason', 'kernel upgrade']);
    assert.equal(d.code, 0, d.stderr);
    await pool.waitFor(
      'the slot to show Drained',
      async () => (await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]?.State === 'Drained',
    );
    pool.file('drain.sub', 'executable = /bin/echo\narguments = after drain\noutput = drain.out\nqueue\n');
    const r = await pool.run('dsubmit', ['drain.sub']);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await sleep(2500);
    assert.equal((await pool.json('dq', [String(cluster)]))[0]?.JobStatus, 1, 'the job waits while the machine drains');
    const c = await pool.run('dsched', ['drain', name, '-cancel']);
    assert.equal(c.code, 0, c.stderr);
    await pool.waitForHistory(cluster, 1);
    assert.equal(pool.read('drain.out'), 'after drain\n');
  });

  test('names – a second startd with a name already in the pool is refused', async () => {
    // another home of this host: the same host credential, same collector, the same STARTD_NAME
    const other = mkdtempSync(join(tmpdir(), 'dsched-other-'));
    cpSync(join(pool.home, 'host'), join(other, 'host'), { recursive: true });
    const collector = pool.daemonAddress('collector');
    const first = (await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!;
    writeFileSync(
      join(other, 'config'),
      `COLLECTOR_HOST = ${collector}\nSTARTD_NAME = ${String(first.StartdName)}\nNUM_CPUS = 1\nUPDATE_INTERVAL = 1\n`,
    );
    const child = spawn(process.execPath, [join(DIST, 'cli', 'dsched.js'), 'startd'], {
      env: { ...pool.env, DSCHED_HOME: other },
      stdio: 'ignore',
    });
    try {
      const log = join(other, 'log', 'startd.log');
      await pool.waitFor(
        'the duplicate to be refused',
        () => existsSync(log) && /already in the pool/.test(readFileSync(log, 'utf8')),
      );
      await sleep(1500);
      const slots = await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']);
      assert.equal(slots.length, 1, 'the pool still has one machine of that name');
      assert.equal(slots[0]!.TotalCpus, 4, 'and it is the original one');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(other, { recursive: true, force: true });
    }
  });
});
