// Policies and holds: periodic_hold, on_exit_hold, PBS walltime (AllowedJobDuration), dhold/drelease with
// reasons; held jobs show why in dq and in the event log (012/013).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fakeMailCommand, mailMessages } from './harness/mail.js';
import { alive, TestPool } from './harness/pool.js';

describe('policies', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (file: string, args: string[] = []) => pool.submit(file, args);
  const heldAd = (cluster: number) =>
    pool.waitFor(`job ${cluster} to be held`, async () =>
      (await pool.json('dq', [String(cluster)])).find((a) => a.JobStatus === 5),
    );

  /** The mail command is the external edge: a script that records in `into` what it was asked to send. */
  const fakeMail = (into: string) => pool.reconfigure(`MAIL = ${fakeMailCommand(pool, into)}\n`, ['schedd']);

  test('policy – periodic_hold holds a running job with its reason and stops it', async () => {
    pool.file(
      'ph.sub',
      `executable = /bin/sh\narguments = "-c 'echo $$ > ph.pid; exec sleep 120'"\nperiodic_hold = (time() - JobCurrentStartDate) > 1\nperiodic_hold_reason = "ran too long for this test"\nlog = ph.log\nqueue\n`,
    );
    const c = await submit('ph.sub');
    const ad = await heldAd(c);
    assert.equal(ad.HoldReason, 'ran too long for this test');
    assert.equal(ad.HoldReasonCode, 3);
    const pid = Number(pool.read('ph.pid').trim());
    await pool.waitFor('the held job to be stopped', () => !alive(pid));
    assert.match(pool.read('ph.log'), /^012 [\s\S]*ran too long for this test/m);
    const hold = await pool.run('dq', ['-hold', String(c)]);
    assert.match(hold.stdout, /ran too long for this test/);
    const stopped = await pool.waitFor('the schedd to record the stop', async () =>
      (await pool.json('dq', [String(c)])).find((a) => a.RemoteHost === undefined),
    );
    assert.equal(stopped.NumJobCompletions, 0, 'a job stopped by a hold did not exit of its own accord');
    await pool.run('drm', [String(c)]);
  });

  test('policy – on_exit_hold holds a job that exited 3', async () => {
    pool.file(
      'oeh.sub',
      `executable = /bin/sh\narguments = "-c 'exit 3'"\non_exit_hold = ExitCode == 3\non_exit_hold_reason = "exit 3 means the input was bad"\nqueue\n`,
    );
    const c = await submit('oeh.sub');
    const ad = await heldAd(c);
    assert.equal(ad.HoldReason, 'exit 3 means the input was bad');
    assert.equal(ad.ExitCode, 3);
  });

  test('policy – max_retries = 2 runs a failing job three times; retry_until stops it early', async () => {
    pool.file(
      'mr.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> mr.runs; exit 1'"\nmax_retries = 2\nlog = mr.log\nqueue\n`,
    );
    const c = await submit('mr.sub');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 1);
    assert.equal(ad!.NumJobStarts, 3, 'one run and two retries, as HTCondor counts them');
    assert.equal(ad!.NumJobCompletions, 3);
    assert.equal(pool.read('mr.runs'), 'run\nrun\nrun\n');
    pool.file(
      'ru.sub',
      `executable = /bin/sh\narguments = "-c 'echo run >> ru.runs; exit 3'"\nmax_retries = 5\nretry_until = 3\nqueue\n`,
    );
    const r = await submit('ru.sub');
    const [rad] = await pool.waitForHistory(r, 1);
    assert.equal(rad!.ExitCode, 3);
    assert.equal(pool.read('ru.runs'), 'run\n', 'exit 3 is what retry_until waits for: no retry');
  });

  test('policy – allowed_job_duration is enforced: the job is held when it runs longer', async () => {
    // (a #PBS job's walltime kills it instead, as PBS does: pbs-jobs.test.ts)
    pool.file('wt.sub', 'executable = /bin/sleep\narguments = 120\nallowed_job_duration = 2\nqueue\n');
    const c = await submit('wt.sub');
    const ad = await heldAd(c);
    assert.match(String(ad.HoldReason), /exceeded allowed job duration of 2 seconds/);
    assert.equal(ad.HoldReasonCode, 46);
    await pool.run('drm', [String(c)]);
  });

  test('mail – notification = Error mails once about a failing job; PBS -m e -M mails at the end', async () => {
    await fakeMail('mail.txt');
    pool.file('ok.sub', `executable = /bin/true\nnotification = Error\nnotify_user = alice@example.org\nqueue\n`);
    pool.file(
      'bad.sub',
      `executable = /bin/sh\narguments = "-c 'exit 4'"\nnotification = Error\nnotify_user = alice@example.org\nqueue\n`,
    );
    const ok = await submit('ok.sub');
    const bad = await submit('bad.sub');
    await pool.waitForHistory(ok, 1);
    await pool.waitForHistory(bad, 1);
    // the whole message: its subject is written before its text
    await pool.waitFor('the mail', () => mailMessages(pool, 'mail.txt').some((m) => /exited with status 4/.test(m)));
    const text = pool.read('mail.txt');
    assert.equal((text.match(/^ARGS: /gm) ?? []).length, 1, text);
    assert.match(text, new RegExp(`ARGS: -s \\[dsched\\] job ${bad}\\.0 exited with status 4 alice@example.org`));
    assert.match(text, /Exit code: 4/);
    pool.file('m.sh', '#!/bin/sh\n#PBS -m e\n#PBS -M bob@example.org\ntrue\n', 0o755);
    const m = await submit('m.sh');
    await pool.waitFor('the PBS end mail', () =>
      new RegExp(`job ${m}\\.0 exited with status 0 bob@example.org`).test(pool.read('mail.txt')),
    );
  });

  test('mail – notification = Error mails a hold the job brought about, not one its owner asked for', async () => {
    await fakeMail('held-mail.txt');
    pool.file('asked.sub', `executable = /bin/sleep\narguments = 120\nnotification = Error\nqueue\n`);
    const asked = await submit('asked.sub');
    const h = await pool.run('dhold', [String(asked), '-reason', 'my own hold']);
    assert.equal(h.code, 0, h.stderr);
    await heldAd(asked);
    pool.file(
      'failing.sub',
      `executable = /bin/sleep\narguments = 120\nperiodic_hold = (time() - JobCurrentStartDate) > 1\nperiodic_hold_reason = "ran too long for this test"\nnotification = Error\nnotify_user = alice@example.org\nqueue\n`,
    );
    const failing = await submit('failing.sub');
    await heldAd(failing);
    await pool.waitFor('the hold mail', () => mailMessages(pool, 'held-mail.txt').some((m) => /was held/.test(m)));
    const text = pool.read('held-mail.txt');
    assert.equal((text.match(/^ARGS: /gm) ?? []).length, 1, text);
    assert.match(text, new RegExp(`^ARGS: -s \\[dsched\\] job ${failing}\\.0 was held alice@example.org$`, 'm'));
    assert.match(text, /^Reason: +ran too long for this test$/m);
    await pool.run('drm', [String(asked), String(failing)]);
  });

  test('limits – concurrency_limits = LICENSE with LICENSE_LIMIT = 2 never runs 3 at once', async () => {
    await pool.reconfigure('LICENSE_LIMIT = 2\n', ['negotiator']);
    // the jobs run until the test opens their gate, once two run at once: jobs of a fixed length could each
    // end before the next one started on a busy machine, and never show two at once
    const gate = join(pool.work, 'lic.go');
    pool.file(
      'lic.sub',
      `executable = /bin/sh\narguments = "-c 'while [ ! -e ${gate} ]; do sleep 0.2; done'"\nconcurrency_limits = LICENSE\nlog = lic.log\nqueue 5\n`,
    );
    const c = await submit('lic.sub');
    await pool.waitFor(
      'two jobs to run at once',
      async () => (await pool.json('dq', [String(c)])).filter((a) => a.JobStatus === 2).length === 2,
    );
    pool.file('lic.go', '');
    await pool.waitForHistory(c, 5);
    let running = 0;
    let peak = 0;
    for (const m of pool.read('lic.log').matchAll(/^(001|005) /gm)) {
      running += m[1] === '001' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    assert.equal(peak, 2, `peak ${peak}`);
  });

  test('hold – dhold and drelease with reasons, events 012 and 013', async () => {
    pool.file('hr.sub', `executable = /bin/sleep\narguments = 1\nlog = hr.log\nqueue\n`);
    const c = await submit('hr.sub', ['-a', 'hold = true']);
    let ad = await heldAd(c);
    assert.equal(ad.HoldReasonCode, 15, 'submitted on hold');
    const rel = await pool.run('drelease', [String(c)]);
    assert.equal(rel.code, 0, rel.stderr);
    await pool.waitForHistory(c, 1);
    pool.file('h2.sub', `executable = /bin/sleep\narguments = 60\nlog = h2.log\nqueue\n`);
    const c2 = await submit('h2.sub');
    await pool.waitFor('the job to run', async () => (await pool.json('dq', [String(c2)]))[0]?.JobStatus === 2);
    const h = await pool.run('dhold', [String(c2), '-reason', 'waiting for the new data set']);
    assert.equal(h.code, 0, h.stderr);
    ad = await heldAd(c2);
    assert.equal(ad.HoldReason, 'waiting for the new data set');
    assert.equal(ad.HoldReasonCode, 1);
    const again = await pool.run('drelease', [String(c2)]);
    assert.equal(again.code, 0, again.stderr);
    // held is what the job is as soon as dhold returns; a release that comes while its run still stops (a
    // startd slow to stop it on a loaded machine) takes effect, and writes its 013, once the run has stopped
    await pool.waitFor('the release in the user log', () => /^013 /m.test(pool.read('h2.log')));
    assert.match(pool.read('h2.log'), /^012 [\s\S]*waiting for the new data set[\s\S]*^013 /m);
    await pool.run('drm', [String(c2)]);
  });
});
