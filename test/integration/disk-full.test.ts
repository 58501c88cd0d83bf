// The schedd's spool on a small file system that fills up: submit, dhold, drelease, drm, dprio, dqedit and
// dsubmit-dag are refused
// with DISK_FULL, the queue and the event log stay as they were, the schedd keeps running, and everything
// works again once space is freed; a running DAG whose progress cannot be recorded waits for room instead of
// crashing the schedd. Needs root (mount -t tmpfs).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestPool } from './harness/pool.js';
import { fill, startOnSmallSpool } from './harness/small-spool.js';

const isRoot = process.getuid?.() === 0;

describe('disk full', { skip: !isRoot && 'needs root to mount a small file system' }, () => {
  let pool: TestPool;
  let spool: string;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    ({ pool, spool, stop } = await startOnSmallSpool());
  });
  after(async () => {
    await stop?.();
  });

  /**
   * Queue a one-node DAG whose PRE script `NAME.sh` waits for the file `NAME.go`, its job logging to `NODE.log`;
   * returns the DAG's cluster once the PRE script runs.
   */
  async function gatedDag(name: string, node: string): Promise<number> {
    pool.file(
      `${name}.sh`,
      `#!/bin/sh\ntouch ${name}.started\ni=0; while [ ! -e ${name}.go ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done\n`,
    );
    chmodSync(join(pool.work, `${name}.sh`), 0o755);
    pool.file(`${node}.sub`, `executable = /bin/true\nlog = ${node}.log\nqueue\n`);
    pool.file(`${name}.dag`, `JOB A ${node}.sub\nSCRIPT PRE A ${name}.sh\n`);
    const r = await pool.run('dsubmit-dag', [`${name}.dag`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cluster = Number(/submitted to cluster (\d+)/.exec(r.stdout)?.[1]);
    await pool.waitFor('the PRE script to run', () => pool.exists(`${name}.started`));
    return cluster;
  }

  test('schedd – a full disk refuses submit, dhold, drelease, drm, dprio, dqedit and dsubmit-dag with DISK_FULL, keeps the queue, and recovers', async () => {
    pool.file(
      'held.sub',
      'executable = /bin/echo\narguments = ran $(Process)\noutput = held.$(Process).out\nlog = held.log\nhold = true\nqueue 2\n',
    );
    pool.file('idle.sub', 'executable = /bin/true\nrequirements = false\nlog = idle.log\nqueue\n');
    pool.file('node.sub', 'executable = /bin/true\nlog = node.log\nqueue\n');
    pool.file('one.dag', 'JOB A node.sub\n');
    const held = await pool.submit('held.sub');
    const idle = await pool.submit('idle.sub');
    const state = async () =>
      (await pool.json('dq', [])).map((a) => `${a.ClusterId}.${a.ProcId}:${a.JobStatus}`).sort();
    const before = await state();
    assert.deepEqual(before, [`${held}.0:5`, `${held}.1:5`, `${idle}.0:1`]);
    const logsBefore = [pool.read('held.log'), pool.read('idle.log')];
    const schedd = pool.daemonPid('schedd');

    const filler = join(spool, 'filler');
    fill(filler);
    for (const [cmd, args] of [
      ['dsubmit', ['held.sub']],
      ['dhold', [String(idle)]],
      ['drelease', [String(held)]],
      ['drm', [String(held)]],
      ['drm', [String(idle)]],
      ['dprio', ['-p', '5', String(idle)]],
      ['dqedit', [String(idle), 'Edited', '1']],
      ['dsubmit-dag', ['one.dag']],
    ] as const) {
      const r = await pool.run(cmd, [...args]);
      assert.equal(r.code, 1, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[DISK_FULL\]/, `${cmd} ${args.join(' ')}`);
      assert.doesNotMatch(r.stderr, /INTERNAL/);
    }
    assert.deepEqual(await state(), before, 'the queue is as it was');
    assert.deepEqual(
      [pool.read('held.log'), pool.read('idle.log')],
      logsBefore,
      'no event was logged for a refused action',
    );
    assert.equal(pool.daemonPid('schedd'), schedd, 'the schedd kept running');
    assert.equal((await pool.json('dq', [String(idle)]))[0]?.Edited, undefined, 'the refused edit changed nothing');

    rmSync(filler);
    for (const [cmd, args] of [
      ['dhold', [String(idle)]],
      ['drm', [String(idle)]],
      ['drelease', [String(held)]],
    ] as const) {
      const r = await pool.run(cmd, [...args]);
      assert.equal(r.code, 0, `${cmd} ${args.join(' ')} after space was freed: ${r.stdout}${r.stderr}`);
    }
    const hist = await pool.waitForHistory(held, 2);
    assert.deepEqual(
      hist.map((a) => a.ExitCode),
      [0, 0],
    );
    assert.equal(pool.read('held.0.out'), 'ran 0\n');
    const again = await pool.submit('held.sub', ['-a', 'hold=false']);
    assert.ok(again > idle);
    const dag = await pool.run('dsubmit-dag', ['one.dag']);
    assert.equal(dag.code, 0, dag.stdout + dag.stderr);
    const dagCluster = Number(/submitted to cluster (\d+)/.exec(dag.stdout)?.[1]);
    const [dagAd] = await pool.waitForHistory(dagCluster, 1);
    assert.equal(dagAd!.ExitCode, 0, 'the DAG submitted once space was freed runs to its end');
    assert.equal(pool.daemonPid('schedd'), schedd, 'the schedd never restarted');
  });

  test('schedd – a running DAG whose progress cannot be recorded keeps it until there is room, and the schedd keeps running', async () => {
    // the PRE script ends while the disk is full: the DAG's record of it cannot be written
    const cluster = await gatedDag('pre', 'dagnode');
    const schedd = pool.daemonPid('schedd');
    const scheddLog = join(pool.home, 'log', 'schedd.log');
    const filler = join(spool, 'filler');
    fill(filler);
    try {
      writeFileSync(join(pool.work, 'pre.go'), '');
      await pool.waitFor(
        'the schedd to find it cannot record the DAG',
        () =>
          existsSync(scheddLog) && readFileSync(scheddLog, 'utf8').includes('cannot record the progress of the DAGs'),
      );
      assert.equal(pool.daemonPid('schedd'), schedd, 'the schedd kept running');
    } finally {
      rmSync(filler, { force: true });
    }
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0, 'the DAG ran to its end once there was room');
    assert.match(pool.read('dagnode.log'), /^005 /m);
    assert.equal(pool.daemonPid('schedd'), schedd, 'the schedd never restarted');
  });

  test('schedd – a DAG node refused again and again while the disk is full spends none of its submit attempts', async () => {
    const cluster = await gatedDag('gate', 'outage');
    const scheddLog = join(pool.home, 'log', 'schedd.log');
    const refusals = () =>
      readFileSync(scheddLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('submitting DAG node A failed') && l.includes(`"cluster":${cluster}`)).length;
    const filler = join(spool, 'filler');
    fill(filler);
    try {
      writeFileSync(join(pool.work, 'gate.go'), '');
      // DAGMAN_MAX_SUBMIT_ATTEMPTS is 6: the sixth refusal would have failed the node
      await pool.waitFor('six refused submissions of node A', () => refusals() >= 6, 120_000);
    } finally {
      rmSync(filler, { force: true });
    }
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0, 'the node ran once there was room, and the DAG succeeded');
    assert.match(pool.read('outage.log'), /^005 /m);
  });

  test('schedd – while the queue cannot be written, the periodic policy evaluation says so once, without a stack, and once when it works again', async () => {
    const scheddLog = join(pool.home, 'log', 'schedd.log');
    const startdLog = join(pool.home, 'log', 'startd.log');
    const entries = (file: string, from: number, msg: RegExp) =>
      readFileSync(file, 'utf8')
        .slice(from)
        .split('\n')
        .filter((l) => msg.test(l))
        .map((l) => JSON.parse(l) as { msg: string; code?: string; err?: unknown });
    const policy = /"msg":"periodic policy evaluation/;
    // an earlier test's outage may still have its end to tell: this one counts from a log that has told it
    await pool.waitFor('the periodic policy evaluation to work', () => {
      const last = entries(scheddLog, 0, policy).at(-1);
      return !last || last.msg.endsWith('works again');
    });
    const from = statSync(scheddLog).size;
    const startdFrom = statSync(startdLog).size;
    const go = join(pool.work, 'policy.go');
    pool.file(
      'policy.sub',
      `executable = /bin/sh\narguments = "-c 'while [ ! -e ${go} ]; do sleep 0.2; done'"\nqueue\n`,
    );
    const cluster = await pool.submit('policy.sub');
    await pool.waitFor('the job to run', async () => (await pool.json('dq', [String(cluster)]))[0]?.JobStatus === 2);
    const filler = join(spool, 'filler');
    fill(filler);
    try {
      // the job's end cannot be recorded: the queue keeps failing, and the startd tries again and again
      writeFileSync(go, '');
      await pool.waitFor('the periodic policy evaluation to fail', () => entries(scheddLog, from, policy).length > 0);
      const retries = () => entries(startdLog, startdFrom, /could not deliver job events/).length;
      const seen = retries();
      await pool.waitFor('two more deliveries of the job end to be refused', () => retries() >= seen + 2);
    } finally {
      rmSync(filler, { force: true });
    }
    await pool.waitForHistory(cluster, 1);
    await pool.waitFor('the periodic policy evaluation to work again', () =>
      entries(scheddLog, from, policy).some((e) => e.msg.endsWith('works again')),
    );
    const told = entries(scheddLog, from, policy);
    assert.deepEqual(
      told.map((e) => [e.msg, e.code]),
      [
        ['periodic policy evaluation failed', 'DISK_FULL'],
        ['periodic policy evaluation works again', undefined],
      ],
    );
    assert.equal(typeof told[0]!.err, 'string', 'the typed error is logged as its message, without a stack');
  });
});
