// With environ process tracking, a job's processes are those carrying its secret tag (and its process group, and
// their descendants). The startd's record of its running jobs (run/startd-jobs.json) held every job's tag and
// was readable by every local user: one (uid 65534) could run a process carrying the tag of root's job, whose
// memory the startd then counted against root's job (held over its limit) and whose signals were the job's. The
// record is root's alone (0600), and no file of the pool a user can read names a tag.
//
// A user who learned (or guessed) a tag anyway could still run a process carrying it: the startd and its
// spawner counted any process with the tag as the job's, whoever's it was, so it was measured against the
// job's memory, signalled with it, and killed when the job ended. Only a process whose real uid is the one the
// job runs as is the job's by its tag now.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FAMILY_VAR, ProcFamily } from '../../daemons/startd/proc-family.js';
import { ROOT, runChild, TestPool } from '../integration/harness/pool.js';
import { withMark } from '../integration/harness/processes.js';
import { NOBODY } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe("security – a job's process tag stays secret", { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ STARTD_PROCESS_TRACKING: 'environ' });
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – another user cannot read a running job's tag from the startd's record or any file of the pool", async () => {
    pool.file('sleep.sub', 'executable = /bin/sleep\narguments = 600\nqueue\n');
    const cluster = await pool.submit('sleep.sub');
    const record = join(pool.home, 'run', 'startd-jobs.json');
    const tag = await pool.waitFor('the running job to be recorded with its tag', () => {
      try {
        return /"tag":"([^"]+)"/.exec(readFileSync(record, 'utf8'))?.[1];
      } catch {
        return undefined;
      }
    });
    assert.equal(statSync(record).mode & 0o777, 0o600);
    const env = { ...pool.env, ...NOBODY.env };
    const cat = await runChild('/bin/cat', [record], { ...NOBODY, env }, pool.work);
    assert.notEqual(cat.code, 0, 'nobody reads the record');
    assert.doesNotMatch(cat.stdout, new RegExp(tag));
    const grep = await runChild('/bin/grep', ['-rlsF', tag, pool.home], { ...NOBODY, env }, pool.work);
    assert.equal(grep.stdout, '', `files of the pool nobody reads that name the tag: ${grep.stdout}`);
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
  });

  for (const end of ['its main process exits', 'it is removed'] as const)
    test(`security – a process of another user carrying a job's tag is not the job's: not counted, and left running when ${end}`, async () => {
      // root's job in a root pool runs as root; it leaves processes of its own (setsid, double-forked)
      const mark = String(600_000_000 + ((process.pid * 10 + (end === 'it is removed' ? 1 : 0)) % 100_000_000));
      const dir = `tagged-${mark}`;
      copyFileSync(join(ROOT, 'test', 'fixtures', 'jobs', 'escape.sh'), pool.file(`${dir}/escape.sh`, ''));
      chmodSync(join(pool.work, dir, 'escape.sh'), 0o755);
      pool.file(
        `${dir}/job.sub`,
        `executable = escape.sh\narguments = ${mark} wait\ninitialdir = ${join(pool.work, dir)}\nqueue\n`,
      );
      const cluster = await pool.submit(join(pool.work, dir, 'job.sub'), [], { cwd: join(pool.work, dir) });
      const main = await pool.waitFor('the job and its escaped processes', () => {
        const files = ['job.pid', 'escaped-setsid.pid', 'escaped-orphan.pid'].map((f) => `${dir}/${f}`);
        return files.every((f) => pool.exists(f) && pool.read(f).trim()) && Number(pool.read(`${dir}/job.pid`));
      });
      const escaped = ['escaped-setsid.pid', 'escaped-orphan.pid'].map((f) => Number(pool.read(`${dir}/${f}`)));
      // the tag, as someone who learned it knows it (the record is root's)
      const record = join(pool.home, 'run', 'startd-jobs.json');
      const tag = await pool.waitFor('the job recorded with its tag', () => {
        try {
          return new RegExp(`"pid":${main},"tag":"([^"]+)"`).exec(readFileSync(record, 'utf8'))?.[1];
        } catch {
          return undefined;
        }
      });
      // nobody's process carrying it
      const other = String(Number(mark) + 50_000_000);
      const hostile = spawn('/bin/sleep', [other], {
        uid: NOBODY.uid,
        gid: NOBODY.gid,
        env: { PATH: '/usr/bin:/bin', [FAMILY_VAR]: tag },
        detached: true,
        stdio: 'ignore',
      });
      hostile.unref();
      try {
        const pid = await pool.waitFor("nobody's tagged process", () => withMark(other)[0]);
        // what the startd counts as the job's (its memory, its signals): its own escaped processes, not nobody's
        const members = new ProcFamily({ method: 'environ', tag, uid: 0 }).pids();
        for (const p of escaped) assert.ok(members.includes(p), `escaped process ${p} is the job's`);
        assert.ok(!members.includes(pid), "nobody's process is not the job's");
        if (end === 'it is removed') {
          const rm = await pool.run('drm', [String(cluster)]);
          assert.equal(rm.code, 0, rm.stderr);
        } else process.kill(main, 'SIGKILL'); // the spawner ends the rest of the job
        await pool.waitFor(`every process of job ${cluster} to be gone`, () => withMark(mark).length === 0);
        if (end !== 'it is removed') await pool.waitForHistory(cluster, 1);
        assert.deepEqual(withMark(other), [pid], "nobody's process runs on");
      } finally {
        hostile.kill('SIGKILL');
      }
    });
});
