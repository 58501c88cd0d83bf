// Match-time substitution: `$$(Attr)`, `$$(Attr:default)` and `$$([expr])` in a submit file are filled in
// from the slot the job runs on (HTCondor's), recorded as MATCH_EXP_* and MATCH_* in the job's ad; a
// reference the slot cannot fill in, or one that expands to something hostile, holds the job with a reason
// naming it, and the startd runs the next job as before.
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('match-time substitution – $$() filled in from the slot', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  async function held(cluster: number): Promise<Record<string, unknown>> {
    return pool.waitFor(`job ${cluster}.0 to be held`, async () => {
      const [ad] = await pool.json('dq', [String(cluster)]);
      return ad?.JobStatus === 5 ? ad : undefined;
    });
  }

  test('match-time substitution – a job prints its slot name, cpus, a default and an expression', async () => {
    pool.file(
      'slot.sub',
      `executable  = /bin/sh
arguments   = "-c 'echo $$(Name) $$(Cpus) $$(NoSuchAttr:dflt) $$([Cpus * 2]) $SLOT_NAME'"
environment = "SLOT_NAME=$$(Name)"
request_cpus = 2
output      = slot.out
queue
`,
    );
    const cluster = await pool.submit('slot.sub');
    const w = await pool.run('dwait', [String(cluster)]);
    assert.equal(w.code, 0, w.stderr + w.stdout);
    const [ad] = await pool.json('dhistory', [String(cluster)]);
    const slot = String(ad!.RemoteHost ?? ad!.LastRemoteHost);
    assert.match(slot, /^slot1_\d+@/);
    assert.equal(pool.read('slot.out'), `${slot} 2 dflt 4 ${slot}\n`);
    assert.equal(ad!.MATCH_Name, slot);
    assert.equal(ad!.MATCH_Cpus, 2);
    assert.equal(ad!.MATCH_EXP_Environment, `SLOT_NAME=${slot}`);
    assert.match(String(ad!.MATCH_EXP_Arguments), new RegExp(`^-c echo' '${slot}' '2' 'dflt' '4' '\\$SLOT_NAME$`));
    // the submitted values stay as written, for the next run to fill in again
    assert.match(String(ad!.Arguments), /\$\$\(Name\)/);
    const long = await pool.run('dhistory', ['-l', String(cluster)]);
    assert.match(long.stdout, /^MATCH_EXP_Arguments = "-c echo/m);
  });

  test('match-time substitution – the executable, stdin and transferred files named with $$() are sent as filled in', async () => {
    pool.file('tf/prog-2.sh', '#!/bin/sh\nread l; echo "stdin: $l"; cat data.txt extra-9.txt\n', 0o755);
    pool.file('tf/in-2.txt', 'two cpus\n');
    pool.file('tf/data.txt', 'data\n');
    pool.file('tf/extra-9.txt', 'extra\n');
    const path = pool.file(
      'tf/tf.sub',
      `executable = prog-$$(Cpus).sh
input = in-$$(Cpus).txt
transfer_input_files = $$([toLower("DATA")]).txt, extra-$$(NoSuchAttr:9).txt
should_transfer_files = YES
request_cpus = 2
output = tf.out
error = tf.err
queue
`,
    );
    const cluster = await pool.submit(path, [], { cwd: dirname(path) });
    const w = await pool.run('dwait', [String(cluster)]);
    assert.equal(w.code, 0, w.stderr + w.stdout);
    const [ad] = await pool.json('dhistory', [String(cluster)]);
    assert.equal(ad!.ExitCode, 0, pool.read('tf/tf.err'));
    assert.equal(pool.read('tf/tf.out'), 'stdin: two cpus\ndata\nextra\n');
    assert.equal(ad!.MATCH_EXP_Cmd, 'prog-2.sh');
    assert.equal(ad!.MATCH_EXP_TransferInput, 'data.txt,extra-9.txt');
  });

  test('match-time substitution – a slot attribute that is missing holds the job, naming it', async () => {
    pool.file('missing.sub', `executable = /bin/echo\narguments = "$$(NoSuchAttr)"\nqueue\n`);
    const cluster = await pool.submit('missing.sub');
    const ad = await held(cluster);
    assert.match(
      String(ad.HoldReason),
      /^Cannot expand \$\$\(NoSuchAttr\) in Arguments: slot1_\d+@\S+ has no attribute NoSuchAttr, and no default is given$/,
    );
    assert.equal(ad.HoldReasonCode, 6);
    const q = await pool.run('dq', ['-hold', String(cluster)]);
    assert.match(q.stdout, /Cannot expand \$\$\(NoSuchAttr\)/);
  });

  test('match-time substitution – a huge or NUL value is held, and the startd goes on', async () => {
    const startd = pool.daemonPid('startd');
    pool.file(
      'huge.sub',
      `executable = /bin/echo
+Blob = "${'x'.repeat(300_000)}"
+Big = "$$([strcat(Blob, Blob)])$$([strcat(Blob, Blob)])"
queue
`,
    );
    pool.file(
      'nul.sub',
      `executable = /bin/echo
+WithNul = "$$([strcat(Name, \\"\\\\0\\")])"
queue
`,
    );
    const huge = await pool.submit('huge.sub');
    const nul = await pool.submit('nul.sub');
    assert.match(
      String((await held(huge)).HoldReason),
      /^Cannot expand Big: it expands to more than 1048576 characters$/,
    );
    assert.match(String((await held(nul)).HoldReason), /^Cannot expand .* in WithNul: .*NUL character$/);
    pool.file('after.sub', `executable = /bin/sh\narguments = "-c 'echo $$(Cpus)'"\noutput = after.out\nqueue\n`);
    const next = await pool.submit('after.sub');
    assert.equal((await pool.run('dwait', [String(next)])).code, 0);
    assert.equal(pool.read('after.out'), '1\n');
    assert.equal(pool.daemonPid('startd'), startd);
  });
});
