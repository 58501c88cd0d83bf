// The schedd (root) reads a DAG job's DAG file, its INCLUDE and SPLICE files and its node submit files with the
// owner's rights. A user (uid 65534) who names a device or a FIFO there, through dsubmit-dag or by submitting
// the DAG job's ad directly, must not hang the schedd or run it out of memory: dsubmit-dag refuses it with
// file:line and queues nothing, the schedd holds the DAG job (or fails the node) with the reason, and keeps
// answering.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('dag file – DAG, INCLUDE, SPLICE and node submit files must be regular files of bounded size', () => {
  let pool: TestPool;
  let userDir: string; // nobody's
  let fifo: string;
  const files: Record<string, string> = {
    'n.sub': `executable = /bin/sh\narguments = "-c 'echo ran > ran.txt'"\nqueue\n`,
    'include.dag': 'JOB N n.sub\nINCLUDE /dev/zero\n',
    'splice.dag': 'JOB N n.sub\nSPLICE S /dev/zero\n',
    'node.dag': 'JOB N /dev/zero\n',
    // a node submit file that reads a device: `include :` and `queue … from`
    'inc.sub': 'executable = /bin/true\ninclude : /dev/zero\nqueue\n',
    'from.sub': 'executable = /bin/true\nqueue x from /dev/zero\n',
    'subinc.dag': 'JOB N inc.sub\n',
    'subfrom.dag': 'JOB N from.sub\n',
  };
  const own = (p: string) => chownSync(p, NOBODY.uid, NOBODY.gid);
  before(async () => {
    pool = await TestPool.start();
    userDir = join(pool.work, 'user');
    mkdirSync(userDir, { mode: 0o755 });
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(userDir, name), text);
      own(join(userDir, name));
    }
    fifo = join(userDir, 'fifo.dag');
    execFileSync('mkfifo', [fifo]);
    own(fifo);
    own(userDir);
  });
  after(async () => {
    await pool?.stop();
  });
  const listing = () => readdirSync(userDir).sort();
  const before_ = () => ['fifo.dag', ...Object.keys(files)].sort();

  test('dag file – dsubmit-dag refuses a device, a FIFO, an INCLUDE, SPLICE or node submit file of one', async () => {
    for (const [file, where] of [
      ['/dev/zero', /the DAG file \/dev\/zero is not a regular file/],
      [fifo, /is not a regular file/],
      ['include.dag', /include\.dag:2:.*\n?[^]*not a regular file|not a regular file[^]*include\.dag:2/],
      ['splice.dag', /not a regular file[^]*splice\.dag:2/],
      ['node.dag', /node N: the node submit file \/dev\/zero is not a regular file[^]*node\.dag:1/],
    ] as const) {
      const r = await pool.run('dsubmit-dag', [file], { ...NOBODY, cwd: userDir });
      assert.equal(r.code, 2, `${file}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[DAG_SYNTAX\]/, file);
      assert.match(r.stderr, where, r.stderr);
    }
    assert.deepEqual(await pool.json('dq', ['-allusers']), []);
    assert.deepEqual(listing(), before_());
  });

  // `abc` is refused by the shared check of every CLI (NaN); -1 and 1.5 were taken as given
  test('dag file – dsubmit-dag refuses a limit that is not a whole number >= 0', async () => {
    writeFileSync(join(userDir, 'ok.dag'), 'JOB N n.sub\n');
    own(join(userDir, 'ok.dag'));
    try {
      for (const opt of ['--maxjobs', '--maxidle', '--maxpre', '--maxpost'])
        for (const v of ['abc', '-1', '1.5']) {
          const r = await pool.run('dsubmit-dag', [`${opt}=${v}`, 'ok.dag'], { ...NOBODY, cwd: userDir });
          assert.equal(r.code, 2, `${opt} ${v}: ${r.stdout}${r.stderr}`);
          assert.match(r.stderr, new RegExp(`error\\[USAGE\\]: --?${opt.slice(2)} needs a`), r.stderr);
        }
      assert.deepEqual(await pool.json('dq', ['-allusers']), []);
    } finally {
      execFileSync('rm', ['-f', join(userDir, 'ok.dag')]);
    }
  });

  test('dag file – a DAG job whose ad names a device, a FIFO, or INCLUDEs or SPLICEs one, is held', async () => {
    // past dsubmit-dag: the DAG job's ad as a hostile client would send it
    for (const dag of ['/dev/zero', fifo, join(userDir, 'include.dag'), join(userDir, 'splice.dag')]) {
      const sub = join(pool.work, 'dag.sub');
      writeFileSync(sub, `universe = scheduler\nexecutable = /bin/true\n+DAGManDagFile = "${dag}"\nqueue\n`);
      own(sub);
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: userDir });
      assert.equal(r.code, 0, r.stderr);
      const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
      const ad = await pool.waitFor(`DAG job ${cluster} (${dag}) to be held`, async () =>
        (await pool.json('dq', [String(cluster), '-allusers'])).find((a) => a.JobStatus === 5),
      );
      assert.match(String(ad.HoldReason), /not a regular file/, String(ad.HoldReason));
      // the schedd still answers, and no node job was queued
      assert.deepEqual(
        (await pool.json('dq', ['-allusers'])).map((a) => a.ClusterId),
        [cluster],
      );
      const rm = await pool.run('drm', [String(cluster)], { ...NOBODY, cwd: userDir });
      assert.equal(rm.code, 0, rm.stderr);
    }
    assert.deepEqual(listing(), before_());
  });

  for (const dagName of ['node.dag', 'subinc.dag', 'subfrom.dag'])
    test(`dag file – a node whose submit file is or reads a device (${dagName}) fails without a node job`, async () => {
      const sub = join(pool.work, 'dag.sub');
      writeFileSync(
        sub,
        `universe = scheduler\nexecutable = /bin/true\n+DAGManDagFile = "${join(userDir, dagName)}"\nqueue\n`,
      );
      own(sub);
      const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: userDir });
      assert.equal(r.code, 0, r.stderr);
      const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
      // the node's submission fails at once (bad input is not retried), so the DAG ends
      await pool.waitFor(`DAG job ${cluster} to end`, async () =>
        (await pool.json('dq', [String(cluster), '-allusers'])).every((a) => a.JobStatus === 4 || a.JobStatus === 5)
          ? true
          : undefined,
      );
      assert.deepEqual(
        (await pool.json('dq', ['-allusers'])).filter((a) => a.ClusterId !== cluster),
        [],
        'no node job was queued',
      );
      assert.ok(!listing().includes('ran.txt'));
      await pool.run('drm', [String(cluster)]);
    });
});
