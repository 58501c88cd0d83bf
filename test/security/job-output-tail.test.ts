// dtail against a pool run by root, as another user (uid 65534): that user cannot read the output of
// root's running job, and a job of theirs that swaps its output file for a link to /etc/shadow (or its
// output folder for a link into /proc) gets nothing back: the startd reads only the file the job's stdout
// was opened as, with the owner's rights. Nothing of the secrets appears in what dtail prints.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe("dtail – only the owner, only the job's own output", () => {
  let pool: TestPool;
  let userDir: string;
  let shadow = '';
  before(async () => {
    pool = await TestPool.start();
    userDir = join(pool.work, 'user');
    mkdirSync(userDir, { mode: 0o755 });
    chownSync(userDir, NOBODY.uid, NOBODY.gid);
    try {
      shadow = readFileSync('/etc/shadow', 'utf8');
    } catch {
      shadow = '';
    }
  });
  after(async () => {
    await pool?.stop();
  });

  const asNobody = (name: string, text: string, mode = 0o644) => {
    const p = join(userDir, name);
    writeFileSync(p, text, { mode });
    chownSync(p, NOBODY.uid, NOBODY.gid);
    return p;
  };
  const runningJob = async (cluster: number, marker: string) => {
    await pool.waitFor(`job ${cluster} to run and print`, async () => {
      const [ad] = await pool.json('dq', [String(cluster), '-allusers']);
      return ad?.JobStatus === 2 && pool.exists(marker);
    });
  };
  /** No line of /etc/shadow (nor any shadow-like line) in what the attacker saw. */
  const noSecrets = (out: string) => {
    assert.doesNotMatch(out, /^root:[^:]*:\d+:/m, 'no shadow entry');
    for (const line of shadow.split('\n').filter((l) => l.length > 8))
      assert.ok(!out.includes(line), 'no line of /etc/shadow');
  };

  test("another user's job: dtail is refused with PERMISSION_DENIED, nothing of its output shown", async () => {
    const trigger = join(pool.work, 'root-go');
    pool.file(
      'root.sh',
      `#!/bin/sh\necho root secret line\ntouch ${join(pool.work, 'root-started')}\nwhile [ ! -e ${trigger} ]; do sleep 0.1; done\n`,
      0o755,
    );
    pool.file('root.sub', 'executable = root.sh\noutput = root.out\nqueue\n');
    const cluster = await pool.submit('root.sub');
    await runningJob(cluster, 'root-started');
    for (const args of [[`${cluster}.0`], ['-f', `${cluster}.0`], ['-stderr', `${cluster}.0`]]) {
      const r = await pool.run('dtail', args, { ...NOBODY, cwd: userDir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /error\[PERMISSION_DENIED\]: only the owner of job \d+\.0 or an admin may read its output/,
      );
      assert.doesNotMatch(r.stdout + r.stderr, /root secret line/);
    }
    // its owner reads it
    const own = await pool.run('dtail', [`${cluster}.0`]);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stdout, 'root secret line\n');
    mkdirSync(trigger);
  });

  for (const transfer of [false, true]) {
    test(`a job that swaps its output for a link to /etc/shadow gets nothing${transfer ? ' (sandbox with file transfer)' : ''}`, async () => {
      const tag = transfer ? 'xfer' : 'shared';
      const trigger = join(pool.work, `${tag}-go`);
      const started = join(userDir, `${tag}-started`);
      // the job's stdout is `out` (shared file system) or _condor_stdout in its sandbox (file transfer)
      const out = transfer ? '_condor_stdout' : join(userDir, `${tag}.out`);
      asNobody(
        `${tag}.sh`,
        `#!/bin/sh\necho harmless\nln -sf /etc/shadow ${out}\ntouch ${started}\nwhile [ ! -e ${trigger} ]; do sleep 0.1; done\n`,
        0o755,
      );
      asNobody(
        `${tag}.sub`,
        `executable = ${tag}.sh\noutput = ${transfer ? `${tag}.out` : out}\n${transfer ? 'should_transfer_files = YES\n' : ''}queue\n`,
      );
      const cluster = await pool.submit(join(userDir, `${tag}.sub`), [], { ...NOBODY, cwd: userDir });
      await runningJob(cluster, join('user', `${tag}-started`));
      for (const args of [[`${cluster}.0`], ['-f', '-maxbytes', '1048576', `${cluster}.0`]]) {
        const r = await pool.run('dtail', args, { ...NOBODY, cwd: userDir });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /error\[OUTPUT_REFUSED\]: .*a symbolic link stands in its place/);
        assert.equal(r.stdout, '');
        noSecrets(r.stdout + r.stderr);
      }
      // root (an admin) is refused the same way: the startd never follows the link, whoever asks
      const admin = await pool.run('dtail', [`${cluster}.0`]);
      assert.equal(admin.code, 1, admin.stdout);
      noSecrets(admin.stdout + admin.stderr);
      mkdirSync(trigger);
    });
  }

  for (const target of ['self', 'startd']) {
    test(`a job that swaps its output folder for a link into /proc/${target} (the reader's own files) gets nothing`, async () => {
      const trigger = join(pool.work, `proc-${target}-go`);
      const started = join(userDir, `proc-${target}-started`);
      const dir = join(userDir, `proc-${target}`);
      mkdirSync(dir);
      chownSync(dir, NOBODY.uid, NOBODY.gid);
      const proc = target === 'self' ? '/proc/self' : `/proc/${pool.daemonPid('startd')}`;
      // stdout is <dir>/environ; the job puts a link into /proc where <dir> was
      asNobody(
        `proc-${target}.sh`,
        `#!/bin/sh\necho harmless\nmv ${dir} ${dir}.old\nln -s ${proc} ${dir}\ntouch ${started}\nwhile [ ! -e ${trigger} ]; do sleep 0.1; done\n`,
        0o755,
      );
      asNobody(`proc-${target}.sub`, `executable = proc-${target}.sh\noutput = ${join(dir, 'environ')}\nqueue\n`);
      const cluster = await pool.submit(join(userDir, `proc-${target}.sub`), [], { ...NOBODY, cwd: userDir });
      await runningJob(cluster, join('user', `proc-${target}-started`));
      const r = await pool.run('dtail', ['-maxbytes', '1048576', `${cluster}.0`], { ...NOBODY, cwd: userDir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /error\[OUTPUT_REFUSED\]/);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stdout + r.stderr, /DSCHED_HOME=|PATH=/);
      mkdirSync(trigger);
    });
  }
});
