// Batch queues (PBS queues, Slurm partitions) from the pool configuration: -q routes a job, a job for an
// unknown queue or over a limit is refused whole with nothing queued, defaults fill what a job did not ask
// for, a queue's allowed users are kept (checked as uid 65534), MAX_RUNNING holds when jobs start, and dq
// shows the queue.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool, type RunOptions } from './harness/pool.js';

const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('queues', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({
      NUM_CPUS: '4',
      QUEUES: 'workq short one restricted',
      QUEUE_short_MAX_WALLTIME: '0:10',
      QUEUE_short_MAX_JOBS_PER_USER: '2',
      QUEUE_short_DEFAULT_MEMORY: '256',
      QUEUE_one_MAX_RUNNING: '1',
      QUEUE_restricted_ALLOWED_USERS: 'root',
    });
  });
  after(async () => {
    await pool?.stop();
  });

  const allJobs = async () => [...(await pool.json('dq', ['-allusers'])), ...(await pool.json('dhistory', []))];

  test('queues – an unknown queue or a walltime over the limit is refused, with nothing queued', async () => {
    pool.file('j.sh', '#!/bin/sh\n#PBS -N j\ntrue\n', 0o755);
    const before_ = (await allJobs()).length;
    const unknown = await pool.run('dsubmit', ['-q', 'nosuch', 'j.sh']);
    assert.equal(unknown.code, 2, unknown.stdout + unknown.stderr);
    assert.match(
      unknown.stderr,
      /error\[QUEUE_UNKNOWN\]: queue 'nosuch' does not exist \(queues: workq, short, one, restricted\)/,
    );
    const long = await pool.run('dsubmit', ['-q', 'short', '-l', 'walltime=1:00', 'j.sh']);
    assert.equal(long.code, 1, long.stdout + long.stderr);
    assert.match(long.stderr, /error\[QUEUE_LIMIT\]: walltime 0:01:00 exceeds queue 'short's limit of 0:00:10/);
    pool.file('u.sub', 'executable = /bin/true\nbatch_queue = nosuch\nqueue 3\n');
    const sub = await pool.run('dsubmit', ['u.sub']);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /QUEUE_UNKNOWN/);
    assert.equal((await allJobs()).length, before_, 'no job was queued');
  });

  test("queues – -q routes the job; the queue's defaults fill walltime and memory; dq -queue and dq -pbs show it", async () => {
    const r = await pool.run('dsubmit', ['-h', '-q', 'short@server', 'j.sh']);
    assert.equal(r.code, 0, r.stderr);
    const c = Number(r.stdout.split('.')[0]);
    const [ad] = await pool.json('dq', [String(c)]);
    assert.equal(ad!.Queue, 'short');
    assert.equal(ad!.PbsQueue, 'short');
    assert.equal(ad!.AllowedJobDuration, 10, "the queue's walltime limit applies to a job that names none");
    assert.equal(ad!.RequestMemory, 256, "the queue's default memory, for a script that asks for none");
    const d = await pool.submit('j.sh', ['-h']);
    assert.equal((await pool.json('dq', [String(d)]))[0]!.Queue, 'workq', 'DEFAULT_QUEUE');
    const only = await pool.json('dq', ['-queue', 'short']);
    assert.deepEqual(
      only.map((a) => a.ClusterId),
      [c],
    );
    const table = await pool.run('dq', ['-pbs']);
    assert.match(table.stdout, new RegExp(`^${c}\\.\\S*\\s+j\\s+\\S+\\s+00:00:00 H short$`, 'm'));
    await pool.run('drm', [String(c), String(d)]);
  });

  test('queues – MAX_JOBS_PER_USER refuses the submission that would pass it, whole', async () => {
    pool.file('h.sub', 'executable = /bin/true\nbatch_queue = short\nhold = true\nqueue\n');
    const a = await pool.submit('h.sub');
    pool.file('h3.sub', 'executable = /bin/true\nbatch_queue = short\nhold = true\nqueue 2\n');
    const over = await pool.run('dsubmit', ['h3.sub']);
    assert.equal(over.code, 1, over.stdout + over.stderr);
    assert.match(
      over.stderr,
      /error\[QUEUE_LIMIT\]: queue 'short' takes at most 2 jobs per user; \S+ has 1 there and this submission adds 2/,
    );
    assert.equal((await pool.json('dq', ['-queue', 'short'])).length, 1, 'none of the two was queued');
    await pool.run('drm', [String(a)]);
  });

  test('queues – a user the queue does not allow is refused (uid 65534)', async () => {
    const dir = join(pool.work, 'nobody');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, 65534, 65534);
    const f = join(dir, 'r.sub');
    writeFileSync(f, 'executable = /bin/true\n+Queue = "restricted"\nqueue\n');
    chownSync(f, 65534, 65534);
    const r = await pool.run('dsubmit', [f], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /error\[PERMISSION_DENIED\]: user nobody may not submit to queue 'restricted' \(it takes users root\)/,
    );
    assert.deepEqual(await pool.json('dq', ['-allusers', '-queue', 'restricted']), []);
  });

  test("queues – MAX_RUNNING 1: the queue's jobs run one at a time although the pool has room", async () => {
    pool.file(
      'one.sub',
      `executable = /bin/sh\narguments = "-c 'echo start >> one.runs; sleep 1; echo end >> one.runs'"\nbatch_queue = one\nqueue 3\n`,
    );
    const c = await pool.submit('one.sub');
    await pool.waitForHistory(c, 3);
    assert.equal(pool.read('one.runs'), 'start\nend\n'.repeat(3), 'never two at once');
  });
});
