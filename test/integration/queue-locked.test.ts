// Another process holds the job queue's SQLite write lock (an admin's open `BEGIN EXCLUSIVE`, a backup tool):
// the schedd keeps answering queries, refuses submits with QUEUE_BUSY leaving nothing behind, keeps a job's
// end with the startd until it can be recorded, and writes again once the lock goes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestPool } from './harness/pool.js';

/** A child process holding the queue's write lock until its standard input ends. */
function holdLock(file: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(join(ROOT, 'node_modules', 'better-sqlite3'))});
    const db = new Database(${JSON.stringify(file)}, { timeout: 60000 });
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve(child);
    });
  });
}

describe('queue locked by another process', () => {
  let pool: TestPool;
  let holder: ChildProcess | undefined;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    holder?.stdin?.end();
    await pool?.stop();
  });

  test('schedd – while another process holds the queue lock, dq answers, dsubmit says QUEUE_BUSY, and a job end is recorded once the lock goes', async () => {
    pool.file('idle.sub', 'executable = /bin/true\nrequirements = false\nqueue\n');
    pool.file(
      'gated.sub',
      'executable = /bin/sh\narguments = "-c \'while [ ! -e go ]; do sleep 0.1; done\'"\nlog = gated.log\nqueue\n',
    );
    pool.file('later.sub', 'executable = /bin/true\nqueue\n');
    const idle = await pool.submit('idle.sub');
    const gated = await pool.submit('gated.sub');
    await pool.waitFor('the gated job to run', async () =>
      (await pool.json('dq', [String(gated)])).some((a) => a.JobStatus === 2),
    );
    const clusters = async () => new Set((await pool.json('dq', [])).map((a) => Number(a.ClusterId)));
    assert.deepEqual(await clusters(), new Set([idle, gated]));

    const schedLog = join(pool.home, 'log', 'schedd.log');
    const failures = () =>
      existsSync(schedLog) ? (readFileSync(schedLog, 'utf8').match(/cannot write the job queue/g) ?? []).length : 0;
    const failedBefore = failures();
    holder = await holdLock(join(pool.home, 'spool', 'job_queue.db'));

    // the job ends; its end cannot be written, so the schedd says so and the startd keeps it
    pool.file('go', '');
    await pool.waitFor('the schedd to find the queue locked', () => failures() > failedBefore);

    for (let i = 0; i < 5; i++) {
      const r = await pool.run('dq', [String(idle), '-json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        (JSON.parse(r.stdout) as Array<Record<string, unknown>>).map((a) => a.ClusterId),
        [idle],
        'the queue is read while it is locked',
      );
    }
    const refused = await pool.run('dsubmit', ['later.sub']);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /locked by another process/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    const during = await clusters();
    assert.ok(
      [...during].every((c) => c === idle || c === gated),
      `a refused submit leaves no cluster behind: ${[...during].join(' ')}`,
    );

    const released = new Promise((r) => holder!.once('exit', r));
    holder.stdin!.end();
    await released;
    holder = undefined;

    const later = await pool.submit('later.sub');
    const [end] = await pool.waitForHistory(gated, 1);
    assert.equal(end!.ExitCode, 0);
    await pool.waitForHistory(later, 1);
    assert.equal((pool.read('gated.log').match(/^005 /gm) ?? []).length, 1, 'the job ended once');
  });
});
