// A job's event log read by the web daemon (`GET /v1/jobs/{id}/events`), a root process, for a local user
// (uid 65534). The log is the user's file, and the user may make it a link to anything they can read. A file of
// /proc says its size is 0 and reads without end: the daemon looked at the size by the path, then read the file
// to its end in one turn, and a link to /proc/PID/pagemap of a process of the user's (256 GB of it) had it read
// until its strings could hold no more, answering no one meanwhile. A log is now read no further than the size
// the opened file has, and refused past 64 MiB by that size. One within it was parsed whole in one turn, all its
// events kept (64 MiB: 500 MB and 16 s of the daemon, answering no one); it is now read a slice at a time,
// keeping only the job's events the answer shows.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { lchownSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { web } from '../integration/harness/web.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – a job event log the web daemon reads', { skip: needsRoot }, () => {
  let pool: TestPool;
  let sleeper: ChildProcess | undefined;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    sleeper?.kill('SIGKILL');
    await pool?.stop();
  });

  test("security – a log linked to a /proc file of the user's is read no further than its size", async () => {
    const { dir, put } = nobodyFolder(pool.work);
    const t = await pool.run('dsched', ['token', 'create'], NOBODY);
    assert.equal(t.code, 0, t.stderr);
    const token = t.stdout.trim();
    const sub = put('held.sub', 'executable = /bin/true\nhold = true\nlog = job.log\nqueue\n');
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const id = `${/cluster (\d+)/.exec(r.stdout)![1]}.0`;
    const logged = await web(pool, `/v1/jobs/${id}/events`, { token });
    assert.equal(logged.status, 200, logged.text);
    assert.ok(logged.json.events.length >= 1, 'the route reads the log as it is');

    // a process of nobody's, held by this test until it ends, and the log made a link to its page map
    sleeper = spawn('/bin/sleep', ['3600'], { uid: NOBODY.uid, gid: NOBODY.gid, stdio: 'ignore' });
    await new Promise((resolve, reject) => sleeper!.once('spawn', resolve).once('error', reject));
    const log = join(dir, 'job.log');
    rmSync(log);
    symlinkSync(`/proc/${sleeper.pid}/pagemap`, log);
    lchownSync(log, NOBODY.uid!, NOBODY.gid!);

    const read = await web(pool, `/v1/jobs/${id}/events`, { token });
    assert.equal(read.status, 200, read.text.slice(0, 400));
    assert.deepEqual(read.json.events, []);
    const rm = await pool.run('drm', [id], NOBODY);
    assert.equal(rm.code, 0, rm.stderr);
  });

  test('security – a log of 64 MiB is read a slice at a time, keeping only the events the answer shows', async () => {
    const { dir, put } = nobodyFolder(pool.work, 'big-log');
    const t = await pool.run('dsched', ['token', 'create'], NOBODY);
    assert.equal(t.code, 0, t.stderr);
    const sub = put('held.sub', 'executable = /bin/true\nhold = true\nlog = job.log\nqueue\n');
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    // just under the 64 MiB the route reads: 800,000 events of another cluster, then one of this job's
    const other = `000 (${cluster + 1}.000.000) 2026-12-07 21:00:00 Job submitted from host: <127.0.0.1:9618>\n...\n`;
    const mine = `012 (${cluster}.000.000) 2026-12-07 21:00:01 Job was held.\n\tby nobody\n...\n`;
    put('job.log', other.repeat(Math.floor(((64 << 20) - mine.length) / other.length)) + mine);
    const peak = () =>
      Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pool.daemonPid('web')}/status`, 'utf8'))![1]);
    const before = peak();
    const read = await web(pool, `/v1/jobs/${cluster}.0/events`, { token: t.stdout.trim() });
    assert.equal(read.status, 200, read.text.slice(0, 400));
    assert.deepEqual(
      read.json.events.map((e: { type: string }) => e.type),
      ['held'],
    );
    // the 800,000 events of the log, all kept until the last was read, took 500 MB of the daemon
    const grown = (peak() - before) / 1024;
    assert.ok(grown < 250, `the web daemon's peak grew by ${grown.toFixed(0)} MB`);
  });
});
