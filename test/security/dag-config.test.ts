// A DAG's CONFIG file is read with its owner's rights. A pool run by root, and a user (uid 65534) who names a
// root-only file as the CONFIG file of a DAG, through dsubmit-dag or by submitting the DAG job's ad directly:
// dsubmit-dag refuses it and queues nothing, and the schedd holds the DAG job without reading the file or
// running a node. A device named as the CONFIG file is refused too (it would never end).
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe("dag config – a DAG's CONFIG file is read with its owner's rights", () => {
  let pool: TestPool;
  let secret: string; // root's, 0600
  let userDir: string; // nobody's: the DAG and its node
  before(async () => {
    pool = await TestPool.start();
    const rootDir = join(pool.work, 'rootdir');
    mkdirSync(rootDir, { mode: 0o755 });
    secret = join(rootDir, 'secret.cfg');
    writeFileSync(secret, 'DAGMAN_MAX_JOBS_SUBMITTED = 1\n', { mode: 0o600 });
    userDir = join(pool.work, 'user');
    mkdirSync(userDir, { mode: 0o755 });
    for (const [name, text] of [
      ['n.sub', `executable = /bin/sh\narguments = "-c 'echo ran > ran.txt'"\nqueue\n`],
      ['x.dag', 'JOB N n.sub\n'],
    ]) {
      writeFileSync(join(userDir, name!), text!);
      chownSync(join(userDir, name!), NOBODY.uid, NOBODY.gid);
    }
    chownSync(userDir, NOBODY.uid, NOBODY.gid);
  });
  after(async () => {
    await pool?.stop();
  });

  test('dag config – dsubmit-dag --config of a root-only file or a device is refused, nothing queued', async () => {
    for (const [file, why] of [
      [secret, /permission denied/i],
      ['/dev/zero', /not a regular file/],
    ] as const) {
      const r = await pool.run('dsubmit-dag', ['--config', file, 'x.dag'], { ...NOBODY, cwd: userDir });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /error\[CONFIG_INVALID\]/);
      assert.match(r.stderr, why);
    }
    assert.deepEqual(await pool.json('dq', ['-allusers']), []);
  });

  test('dag config – a DAG job whose ad names a root-only CONFIG file is held, and no node runs', async () => {
    // past dsubmit-dag: the DAG job's ad as a hostile client would send it
    const sub = join(userDir, 'dag.sub');
    writeFileSync(
      sub,
      `universe = scheduler\nexecutable = /bin/true\n+DAGManDagFile = "${join(userDir, 'x.dag')}"\n+DAGManConfigFile = "${secret}"\nqueue\n`,
    );
    chownSync(sub, NOBODY.uid, NOBODY.gid);
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: userDir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const ad = await pool.waitFor(`DAG job ${cluster} to be held`, async () =>
      (await pool.json('dq', [String(cluster), '-allusers'])).find((a) => a.JobStatus === 5),
    );
    assert.match(String(ad.HoldReason), /permission denied/i);
    assert.ok(String(ad.HoldReason).includes(secret), String(ad.HoldReason));
    assert.deepEqual(
      (await pool.json('dq', ['-allusers'])).map((a) => a.ClusterId),
      [cluster],
      'no node job was queued',
    );
    assert.deepEqual(readdirSync(userDir).sort(), ['dag.sub', 'n.sub', 'x.dag']);
    await pool.run('drm', [String(cluster)]);
  });
});
