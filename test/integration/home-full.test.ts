// The whole pool home (spool, logs, run files, execute folder) on a small file system that fills up while a
// job runs: every daemon keeps running though none can write its log (a log line that fails used to kill
// its daemon, and the master died writing the pid file of the daemon it restarted, taking the pool with it);
// submit and every action are refused with DISK_FULL, the queue stays as it was, and once space is freed
// everything works again and the job that ended meanwhile completes once. Needs root (mount -t tmpfs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, TestPool } from './harness/pool.js';
import { fill, unmountWhenFree } from './harness/small-spool.js';
import { eventCodes } from './harness/user-log.js';

const isRoot = process.getuid?.() === 0;
const DAEMONS = ['collector', 'negotiator', 'schedd', 'startd'];

/**
 * Fill the last block of each daemon log with one valid JSON line, so that on a full file system the
 * daemon's next log line cannot be written (a file grows into its last block without asking for space).
 */
function fillLogBlocks(logDir: string): void {
  const block = statSync(logDir).blksize || 4096;
  for (const f of readdirSync(logDir).filter((n) => n.endsWith('.log'))) {
    const room = block - (statSync(join(logDir, f)).size % block);
    if (room < 16) continue;
    try {
      appendFileSync(join(logDir, f), `{"pad":"${'x'.repeat(room - 11)}"}\n`);
    } catch {
      // the block was full already
    }
  }
}

describe('pool home full', { skip: !isRoot && 'needs root to mount a small file system' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = TestPool.create();
    const config = readFileSync(join(pool.home, 'config'), 'utf8');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', pool.home]);
    writeFileSync(join(pool.home, 'config'), config);
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr + pool.logs());
  });
  after(async () => {
    await pool?.run('dsched', ['stop']);
    if (pool) await unmountWhenFree(pool.home);
    await pool?.stop();
  });

  test('home full – every daemon keeps running without its log, actions are refused with DISK_FULL, and all works again once space is freed', async () => {
    pool.file('held.sub', 'executable = /bin/true\nlog = held.log\nhold = true\nqueue 2\n');
    pool.file('idle.sub', 'executable = /bin/true\nrequirements = false\nlog = idle.log\nqueue\n');
    const go = join(pool.work, 'run.go');
    const ended = join(pool.work, 'run.ended');
    pool.file(
      'run.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> ${join(pool.work, 'run.runs')}; while [ ! -e ${go} ]; do sleep 0.2; done; touch ${ended}'"\nlog = run.log\nqueue\n`,
    );
    const held = await pool.submit('held.sub');
    const idle = await pool.submit('idle.sub');
    const run = await pool.submit('run.sub');
    await pool.waitFor(
      'the job to run',
      () => pool.exists('run.runs') && eventCodes(pool, 'run.log', run).includes('001'),
    );
    const state = async () =>
      (await pool.json('dq', [String(held), String(idle)])).map((a) => `${a.ClusterId}.${a.ProcId}:${a.JobStatus}`);
    const before = await state();
    const master = Number(readFileSync(join(pool.home, 'run', 'master.pid'), 'utf8').split(/\s+/)[0]);
    const pids = DAEMONS.map((d) => pool.daemonPid(d));

    const filler = join(pool.home, 'filler');
    fill(filler);
    fillLogBlocks(join(pool.home, 'log'));
    const refused = async () => {
      for (const [cmd, args] of [
        ['dsubmit', ['held.sub']],
        ['dhold', [String(idle)]],
        ['drelease', [String(held)]],
        ['drm', [String(held)]],
        ['dprio', ['-p', '5', String(idle)]],
        ['dqedit', [String(idle), 'Edited', '1']],
      ] as const) {
        const r = await pool.run(cmd, [...args]);
        assert.equal(r.code, 1, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /error\[DISK_FULL\]/, `${cmd} ${args.join(' ')}`);
      }
    };
    await refused();
    // the job ends while nothing can be written: its end waits, and the daemons log (and fail to) meanwhile
    writeFileSync(go, '');
    await pool.waitFor('the job to end', () => pool.exists('run.ended'));
    await refused();
    assert.deepEqual(await state(), before, 'the queue is as it was');
    assert.ok(alive(master), 'the master kept running');
    assert.deepEqual(
      DAEMONS.map((d) => pool.daemonPid(d)),
      pids,
      'no daemon died or restarted',
    );

    rmSync(filler);
    for (const [cmd, args] of [
      ['drm', [String(idle)]],
      ['drelease', [String(held)]],
    ] as const) {
      const r = await pool.run(cmd, [...args]);
      assert.equal(r.code, 0, `${cmd} ${args.join(' ')} after space was freed: ${r.stdout}${r.stderr}`);
    }
    assert.deepEqual(
      (await pool.waitForHistory(held, 2)).map((a) => a.ExitCode),
      [0, 0],
    );
    const [ad] = await pool.waitForHistory(run, 1);
    assert.equal(ad!.ExitCode, 0);
    const codes = eventCodes(pool, 'run.log', run);
    assert.equal(codes.filter((c) => c === '005').length, 1, codes.join(' '));
    assert.equal(codes.at(-1), '005', codes.join(' '));
    assert.equal(pool.read('run.runs'), 'run\n', 'the job ran once');
  });
});
