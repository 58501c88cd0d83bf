// A job cannot leave processes behind: one that escapes its process group with setsid, or is double-forked
// and adopted by init, is still the job's, and goes when the job ends (its main process exits), is
// removed, or ignores SIGTERM (SIGKILL after the grace). Run for each tracking method this host has
// (STARTD_PROCESS_TRACKING forces it); the jobs belong to an unprivileged user, as on a real pool.
import assert from 'node:assert/strict';
import { copyFileSync, chmodSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProcTracker, type TrackingMethod } from '../../daemons/startd/proc-family.js';
import { ROOT, TestPool, type RunOptions } from '../integration/harness/pool.js';
import { keeperOf, spawnerOf } from '../integration/harness/processes.js';

const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const isRoot = process.getuid?.() === 0;

/** Why this host cannot track by `method` (undefined: it can). */
function unavailable(method: TrackingMethod): string | undefined {
  try {
    ProcTracker.setup(method, 'dsched-test', `probe_${process.pid}`).close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Whether a process runs (a zombie does not: in a container nobody may reap the orphans). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Processes whose command line holds `mark` (a number no other process uses). */
function withMark(mark: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // dead, not yet reaped
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(mark)) out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

for (const method of ['cgroup-v2', 'cgroup-v1', 'environ'] as const) {
  const why = !isRoot ? 'needs root (jobs run as another user, cgroups need root)' : unavailable(method);
  describe(`process escape – ${method}`, { skip: why && `${method} is not available here: ${why}` }, () => {
    let pool: TestPool;
    let seq = 0;
    before(async () => {
      pool = await TestPool.start({ STARTD_PROCESS_TRACKING: method, BASE_CGROUP: 'dsched-test' });
      copyFileSync(join(ROOT, 'test', 'fixtures', 'jobs', 'escape.sh'), join(pool.work, 'escape.sh'));
      chmodSync(join(pool.work, 'escape.sh'), 0o755);
    });
    after(async () => {
      await pool?.stop();
      // the (empty) base cgroup the test's startd used; another run may still be in it
      for (const m of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup', '/sys/fs/cgroup/freezer', '/sys/fs/cgroup/pids']) {
        try {
          rmdirSync(join(m, 'dsched-test'));
        } catch {
          /* not there, or in use */
        }
      }
    });

    /** Submit escape.sh in its own directory, as nobody; returns the cluster, the mark and that directory. */
    async function submit(mode: 'exit' | 'wait', extra = '') {
      const mark = String(700_000_000 + ((process.pid * 1000 + ++seq) % 100_000_000));
      const dir = `run${seq}`;
      pool.file(`${dir}/.keep`, '', 0o666);
      chmodSync(join(pool.work, dir), 0o777);
      pool.file(
        `${dir}/job.sub`,
        `executable = ${join(pool.work, 'escape.sh')}\narguments = ${mark} ${mode} ${extra}\ninitialdir = ${join(pool.work, dir)}\nlog = job.log\nqueue\n`,
      );
      const cluster = await pool.submit(join(pool.work, dir, 'job.sub'), [], { ...NOBODY, cwd: join(pool.work, dir) });
      return { cluster, mark, dir };
    }

    /** The escaped processes, once both exist (their pids, read from the files they wrote). */
    async function escaped(dir: string, mark: string): Promise<number[]> {
      return pool.waitFor(`the job's escaped processes (${mark})`, () => {
        const pids = ['escaped-setsid.pid', 'escaped-orphan.pid'].map((f) =>
          pool.exists(`${dir}/${f}`) ? Number(pool.read(`${dir}/${f}`).trim()) : 0,
        );
        return pids.every((p) => p > 0) && withMark(mark).length >= 2 ? pids : undefined;
      });
    }

    test(`process escape – ${method}: the slot ad and the startd log name the method`, async () => {
      // dsched start returns once the daemons serve; the startd's first ad reaches the collector just after
      const tracking = await pool.waitFor('the slot ad', async () => {
        const r = await pool.run('dstatus', ['-af', 'ProcessTracking']);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.trim() && r.stdout;
      });
      assert.match(tracking, new RegExp(`^${method}$`, 'm'));
      assert.match(
        readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8'),
        new RegExp(`job processes are tracked by ${method}`),
      );
    });

    test(`process escape – ${method}: setsid and double-forked children are gone once the job has exited`, async () => {
      const { cluster, mark, dir } = await submit('exit');
      const [h] = await pool.waitForHistory(cluster, 1);
      assert.equal(h!.ExitCode, 0, 'the job exits 0 once its children exist');
      const pids = ['escaped-setsid.pid', 'escaped-orphan.pid'].map((f) => Number(pool.read(`${dir}/${f}`).trim()));
      // the exit is reported only after the job's last process is gone: no waiting here
      assert.deepEqual(withMark(mark), [], `processes of the job still run: ${withMark(mark).join(' ')}`);
      for (const p of pids) assert.ok(!running(p), `escaped process ${p} still runs`);
      assert.match(pool.read(`${dir}/job.log`), /^005 /m);
    });

    test(`process escape – ${method}: drm of a running job kills its escaped children`, async () => {
      const { cluster, mark, dir } = await submit('wait');
      const pids = await escaped(dir, mark);
      const rm = await pool.run('drm', [String(cluster)], NOBODY);
      assert.equal(rm.code, 0, rm.stderr);
      await pool.waitFor(`every process of job ${cluster} to be gone`, () => withMark(mark).length === 0);
      for (const p of pids) assert.ok(!running(p), `escaped process ${p} still runs`);
    });

    test(`process escape – ${method}: children that ignore SIGTERM are killed after the grace`, async () => {
      const { cluster, mark, dir } = await submit('wait', 'ignore-term');
      const pids = await escaped(dir, mark);
      const rm = await pool.run('drm', [String(cluster)], NOBODY);
      assert.equal(rm.code, 0, rm.stderr);
      await pool.waitFor(`every process of job ${cluster} to be gone`, () => withMark(mark).length === 0);
      for (const p of pids) assert.ok(!running(p), `escaped process ${p} still runs`);
      // they went by SIGKILL after KILL_GRACE, not by the SIGTERM they ignore
      assert.match(
        readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8'),
        new RegExp(`"cluster":${cluster},[^\\n]*"signal":"SIGTERM","graceSec":2[^\\n]*stopping job`),
      );
    });

    test(`process escape – ${method}: a startd killed with its spawner finds the job's processes when it starts again`, async () => {
      const { cluster, mark, dir } = await submit('wait');
      const pids = await escaped(dir, mark);
      // this run's processes: the job may run again once its startd is back (same arguments, same mark)
      const run = withMark(mark);
      const startd = pool.daemonPid('startd');
      // none may clean up (as when the whole host's daemons die at once): the spawner and its keeper are
      // stopped before the startd dies, then killed too
      const chain = [keeperOf(pool), spawnerOf(pool)];
      for (const p of chain) process.kill(p, 'SIGSTOP');
      process.kill(startd, 'SIGKILL');
      for (const p of chain) process.kill(p, 'SIGKILL');
      await pool.waitFor('the spawner and its keeper to be gone', () => !chain.some(running));
      assert.ok(pids.every(running), 'the job outlived its startd and spawner');
      await pool.waitForRestart('startd', startd);
      await pool.waitFor(`every process of job ${cluster}'s first run to be gone`, () => !run.some(running));
      assert.match(
        readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8'),
        /killed processes left by jobs of a previous startd/,
      );
      await pool.run('drm', [String(cluster)], NOBODY);
    });
  });
}
