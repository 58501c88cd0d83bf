// A job's event log read by the web daemon (`GET /v1/jobs/{id}/events`), a root process, for a local user
// (uid 65534). The log is the user's file, and the user may make it a link to anything they can read. A file of
// /proc says its size is 0 and reads without end: the daemon looked at the size by the path, then read the file
// to its end in one turn, and a link to /proc/PID/pagemap of a process of the user's (256 GB of it) had it read
// until its strings could hold no more, answering no one meanwhile. A log is now read no further than the size
// the opened file has, and refused past 64 MiB by that size.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { lchownSync, rmSync, symlinkSync } from 'node:fs';
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
});
