// The execute folder on a small file system that a job fills while it writes: the job is held with
// HoldReasonCode 34 (out of resources; subcode 28, ENOSPC) and a reason naming the folder, whatever its exit
// code, never recorded as a success with its output cut short; its sandbox goes, and once released it runs
// again. A job that wrote nothing in its sandbox lost nothing and completes. Needs root (mount -t tmpfs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { fill, unmountWhenFree } from './harness/small-spool.js';
import { eventCodes, withoutReconnects } from './harness/user-log.js';

const isRoot = process.getuid?.() === 0;

describe('execute folder full', { skip: !isRoot && 'needs root to mount a small file system' }, () => {
  let pool: TestPool;
  let execute: string;
  before(async () => {
    pool = TestPool.create();
    execute = join(pool.home, 'execute');
    mkdirSync(execute, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', execute]);
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr + pool.logs());
  });
  after(async () => {
    await pool?.run('dsched', ['stop']);
    if (execute) await unmountWhenFree(execute);
    await pool?.stop();
  });

  /** The job's ad once it is held (or fails the test if it finishes instead). */
  async function held(cluster: number): Promise<Record<string, unknown>> {
    return pool.waitFor(`job ${cluster} to be held`, async () => {
      const [h] = await pool.json('dhistory', [String(cluster)]);
      assert.equal(h, undefined, `the job finished: ${JSON.stringify(h)}`);
      const [ad] = await pool.json('dq', [String(cluster)]);
      return ad?.JobStatus === 5 ? ad : undefined;
    });
  }

  function assertHeldForDisk(ad: Record<string, unknown>) {
    assert.equal(ad.HoldReasonCode, 34);
    assert.equal(ad.HoldReasonSubCode, 28);
    assert.match(String(ad.HoldReason), /execute folder's file system .* was full when the job ended \(exit code 0\)/);
    assert.ok(String(ad.HoldReason).includes(execute), String(ad.HoldReason));
  }

  test('execute folder full – a job whose output fills it and that exits 0 is held, not a success; released with room, it completes', async () => {
    // bytes to write, read from the submit folder at each run: 20 MB does not fit, 1000 does
    pool.file('size', '20000000\n');
    const cluster = await pool.submit(
      pool.file(
        'out.sub',
        `executable = /bin/sh\narguments = "-c 'head -c $(cat ${join(pool.work, 'size')}) /dev/zero; true'"\n` +
          'should_transfer_files = YES\ntransfer_executable = false\noutput = out.txt\nlog = out.log\nqueue\n',
      ),
    );
    assertHeldForDisk(await held(cluster));
    assert.deepEqual(withoutReconnects(eventCodes(pool, 'out.log', cluster)), ['000', '001', '012']);
    // its sandbox is gone: the folder has room for the next job
    await pool.waitFor('the sandbox to be removed', () => readdirSync(execute).length === 0);

    pool.file('size', '1000\n');
    const r = await pool.run('drelease', [String(cluster)]);
    assert.equal(r.code, 0, r.stderr);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('out.txt').length, 1000);
  });

  test('execute folder full – a job that fills its TMPDIR (no file transfer) and exits 0 is held', async () => {
    const cluster = await pool.submit(
      pool.file(
        'tmp.sub',
        `executable = /bin/sh\narguments = "-c 'head -c 20000000 /dev/zero > $TMPDIR/scratch; exit 0'"\nlog = tmp.log\nqueue\n`,
      ),
    );
    assertHeldForDisk(await held(cluster));
    assert.deepEqual(withoutReconnects(eventCodes(pool, 'tmp.log', cluster)), ['000', '001', '012']);
    await pool.waitFor('the sandbox to be removed', () => readdirSync(execute).length === 0);
  });

  test('execute folder full – a job that wrote nothing in its sandbox while it was full completes as usual', async () => {
    const go = join(pool.work, 'idle.go');
    const cluster = await pool.submit(
      pool.file(
        'quiet.sub',
        `executable = /bin/sh\narguments = "-c 'touch ${join(pool.work, 'quiet.runs')}; while [ ! -e ${go} ]; do sleep 0.2; done'"\nlog = quiet.log\nqueue\n`,
      ),
    );
    await pool.waitFor('the job to run', () => pool.exists('quiet.runs'));
    // another's files fill the folder while this job runs
    const filler = join(execute, 'filler');
    fill(filler);
    try {
      writeFileSync(go, '');
      const [ad] = await pool.waitForHistory(cluster, 1);
      assert.equal(ad!.JobStatus, 4);
      assert.equal(ad!.ExitCode, 0);
      assert.deepEqual(withoutReconnects(eventCodes(pool, 'quiet.log', cluster)), ['000', '001', '005']);
    } finally {
      rmSync(filler);
    }
  });
});
