// Machine policy: the startd evaluates PREEMPT, WANT_SUSPEND/SUSPEND/CONTINUE, WANT_VACATE and KILL against
// each running job (MY = the dynamic slot, TARGET = the job). A preempted job gets its kill_sig, goes back to
// idle (event 004) and runs again; a suspended job is stopped (JobStatus 7, events 010/011) and resumed.
// The Vacate RPC evicts the job on a slot as PREEMPT does. Each expression is keyed on a job attribute so
// that the tests of this file do not disturb each other's jobs.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import { sleep, TestPool } from './harness/pool.js';
import { withoutReconnects } from './harness/user-log.js';

describe('machine policy', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({
      POLLING_INTERVAL: '1',
      STARTER_UPDATE_INTERVAL: '1',
      MACHINE_MAX_VACATE_TIME: '30',
      // only the first run of a job that asks for it (the schedd sets LastVacateTime when it is evicted)
      PREEMPT:
        'TARGET.PreemptMe =?= true && TARGET.LastVacateTime =?= undefined && (CurrentTime - EnteredCurrentActivity) > 1',
      WANT_SUSPEND: 'TARGET.SuspendMe =?= true',
      SUSPEND: 'TARGET.TotalSuspensions =?= undefined && (CurrentTime - EnteredCurrentActivity) > 1',
      // the suspend test turns CONTINUE on itself
      CONTINUE: 'FALSE',
      // evaluated only while a job is being vacated
      KILL: 'TARGET.KillMe =?= true',
    });
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (file: string) => pool.submit(file);
  const ad = async (cluster: number) => (await pool.json('dq', [String(cluster)]))[0];
  /** Event numbers of a user log, in order, without the image-size updates (006) that come when they come. */
  const events = (name: string) =>
    withoutReconnects([...pool.read(name).matchAll(/^(\d{3}) \(/gm)].map((m) => m[1]!).filter((n) => n !== '006'));

  test('policy – PREEMPT evicts the job (004), it goes back to idle and runs again', async () => {
    // the second run ends at once; the first waits to be preempted
    pool.file(
      'twice.sh',
      '#!/bin/sh\necho run >> runs.txt\n[ "$(wc -l < runs.txt)" -ge 2 ] && exit 0\nexec sleep 600\n',
      0o755,
    );
    pool.file('pre.sub', `executable = twice.sh\n+PreemptMe = true\nlog = pre.log\nqueue\n`);
    const c = await submit('pre.sub');
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.JobStatus, 4);
    assert.equal(h!.ExitCode, 0);
    assert.equal(h!.NumJobStarts, 2);
    assert.deepEqual(events('pre.log'), ['000', '001', '004', '001', '005']);
    assert.match(pool.read('pre.log'), /^004 [\s\S]*PREEMPT expression/m);
    assert.equal(pool.read('runs.txt').trim().split('\n').length, 2);
    // the evicted claim was given up at once (not left to its lease): its resources went back to slot1
    const first = /^001 [^\n]*\n\tSlotName: (\S+)/m.exec(pool.read('pre.log'))?.[1];
    assert.ok(first, pool.read('pre.log'));
    const lines = readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"slot":"${first}"`));
    assert.ok(
      lines.some((l) => l.includes('"msg":"claim released"')),
      `no release of ${first}:\n${lines.join('\n')}`,
    );
    assert.ok(!lines.some((l) => l.includes('claim lease expired')), lines.join('\n'));
  });

  test('policy – SUSPEND stops the job (status S, 010) until CONTINUE resumes it (011); it then finishes', async () => {
    // a counter written every 0.2 s (renamed into place, so a read never sees half a write) until `done` exists
    pool.file(
      'count.sh',
      '#!/bin/sh\ni=0\nwhile [ ! -f done ]; do i=$((i+1)); echo $i > count.tmp; mv count.tmp count; sleep 0.2; done\nexit 0\n',
      0o755,
    );
    pool.file('sus.sub', `executable = count.sh\n+SuspendMe = true\nlog = sus.log\nqueue\n`);
    const c = await submit('sus.sub');
    await pool.waitFor(`job ${c} to be suspended`, async () => (await ad(c))?.JobStatus === 7);
    const q = await pool.run('dq', ['-nobatch', String(c)]);
    assert.match(q.stdout, new RegExp(`^\\s*${c}\\.0\\s.*\\sS\\s`, 'm'), q.stdout);
    const slot = await pool.waitFor('the slot to show Activity Suspended', async () => {
      const slots = await pool.json('dstatus', []);
      return slots.find((s) => s.Activity === 'Suspended');
    });
    assert.equal(slot.State, 'Claimed');
    // it does not advance while suspended (a sampling window of several write periods)
    const before = pool.read('count');
    await sleep(1000);
    assert.equal(pool.read('count'), before, 'the counter advanced while the job was suspended');
    assert.equal((await ad(c))?.JobStatus, 7);
    assert.match(pool.read('sus.log'), /^010 [\s\S]*Number of processes actually suspended: [1-9]/m);
    appendFileSync(join(pool.home, 'config'), 'CONTINUE = TRUE\n');
    await pool.waitFor(`job ${c} to run again`, async () => (await ad(c))?.JobStatus === 2);
    const resumedAt = Number(pool.read('count'));
    await pool.waitFor('the counter to advance', () => Number(pool.read('count')) > resumedAt);
    pool.file('done', '');
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.JobStatus, 4);
    assert.equal(h!.ExitCode, 0);
    assert.equal(h!.TotalSuspensions, 1);
    assert.equal(h!.NumJobStarts, 1);
    assert.deepEqual(events('sus.log'), ['000', '001', '010', '011', '005']);
  });

  test('policy – kill_sig = SIGQUIT: a vacated job catches it and writes its checkpoint, then resumes from it', async () => {
    // a background job of a non-interactive shell ignores SIGQUIT: only the trap in the shell acts on it
    pool.file(
      'ckpt.sh',
      '#!/bin/sh\nif [ -f ckpt.txt ]; then echo "resumed from $(cat ckpt.txt)" > resumed.txt; exit 0; fi\ntrap \'echo step-7 > ckpt.txt; exit 0\' QUIT\nsleep 600 &\nwait $!\n',
      0o755,
    );
    pool.file('ckpt.sub', `executable = ckpt.sh\nkill_sig = SIGQUIT\n+PreemptMe = true\nlog = ckpt.log\nqueue\n`);
    const c = await submit('ckpt.sub');
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.JobStatus, 4);
    assert.equal(h!.NumJobStarts, 2);
    assert.equal(pool.read('ckpt.txt').trim(), 'step-7');
    assert.equal(pool.read('resumed.txt').trim(), 'resumed from step-7');
    assert.deepEqual(events('ckpt.log'), ['000', '001', '004', '001', '005']);
  });

  test('policy – KILL during vacating kills at once a job that ignores its kill signal', async () => {
    // SIGTERM ignored by the shell and (inherited) by its children; the grace would be 30 s
    pool.file(
      'stubborn.sh',
      '#!/bin/sh\necho run >> sruns.txt\n[ "$(wc -l < sruns.txt)" -ge 2 ] && exit 0\ntrap "" TERM\nwhile true; do sleep 1; done\n',
      0o755,
    );
    pool.file('kill.sub', `executable = stubborn.sh\n+PreemptMe = true\n+KillMe = true\nlog = kill.log\nqueue\n`);
    const c = await submit('kill.sub');
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.NumJobStarts, 2);
    assert.deepEqual(events('kill.log'), ['000', '001', '004', '001', '005']);
    const log = readFileSync(join(pool.home, 'log', 'startd.log'), 'utf8');
    const killed = log.split('\n').find((l) => l.includes(`"cluster":${c},`) && l.includes('"msg":"killing job"'));
    assert.ok(killed, 'the startd log has no "killing job" line for the job');
    assert.match(killed, /KILL expression/);
  });

  test('vacate – an admin evicts the job on a slot through the Vacate RPC; a plain user may not', async () => {
    pool.file(
      'vac.sh',
      '#!/bin/sh\necho run >> vruns.txt\n[ "$(wc -l < vruns.txt)" -ge 2 ] && exit 0\nexec sleep 600\n',
      0o755,
    );
    pool.file('vac.sub', `executable = vac.sh\nlog = vac.log\nqueue\n`);
    const c = await submit('vac.sub');
    const running = await pool.waitFor(`job ${c} to run`, async () => {
      const a = await ad(c);
      return a?.JobStatus === 2 && a.RemoteHost ? a : undefined;
    });
    const addr = pool.daemonAddress('startd');
    const user = new StartdClient(addr, pool.creds(pool.token('mallory')));
    const admin = new StartdClient(addr, pool.creds(pool.token('root', true)));
    try {
      await assert.rejects(
        user.vacate(String(running.RemoteHost), 'not allowed'),
        (e: Error & { code?: string }) => e.code === 'PERMISSION_DENIED',
      );
      await assert.rejects(
        admin.vacate('slot1_999@nowhere', 'no such slot'),
        (e: Error & { code?: string }) => e.code === 'CLAIM_NOT_FOUND',
      );
      const r = await admin.vacate(String(running.RemoteHost), 'making room for a bigger job');
      assert.equal(r.vacated, true);
    } finally {
      user.close();
      admin.close();
    }
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.NumJobStarts, 2);
    assert.match(pool.read('vac.log'), /^004 [\s\S]*making room for a bigger job/m);
    assert.deepEqual(events('vac.log'), ['000', '001', '004', '001', '005']);
  });
});
