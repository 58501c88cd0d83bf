// The admin runs DAGs and jobs from a folder others may write (a shared project folder, /tmp), where another
// user (uid 65534) may have placed files under the names root's commands and daemons will read or write.
// A rescue DAG (`x.dag.rescue001`, ...) beside a DAG is applied when the DAG is submitted again, as DAGMan
// does: it is read after the DAG as if appended to it, so one planted there could mark the admin's nodes done,
// or add a PRE script that the schedd then runs as root. Only a rescue DAG that the DAG's owner's own run
// wrote is taken; another's is left alone, and the DAG runs whole.
// The schedd and the startd's spawner write a root job's files (root's DAG's) with root's rights: the DAG's
// dagman.out and rescue DAG (written under a temporary name and renamed), a job's event log, its output, the
// folder of its transferred output. Links placed under those names had root truncate and write any file; root
// now follows no link in such a folder, and writes only files and into folders it made or its own.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe("shared folder – what another user placed beside root's DAGs and jobs", { skip: needsRoot }, () => {
  let pool: TestPool;
  let shared: string; // a folder anyone may write, sticky, as /tmp
  before(async () => {
    pool = await TestPool.start();
    shared = join(pool.work, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
  });
  after(async () => {
    await pool?.stop();
  });

  const rootFile = (name: string, text: string) => writeFileSync(join(shared, name), text, { mode: 0o644 });
  const nobodyFile = (name: string, text: string, mode = 0o644) => {
    const p = join(shared, name);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    chownSync(p, NOBODY.uid!, NOBODY.gid!);
    return p;
  };

  test("shared folder – nobody's rescue001 (DONE A, a PRE script for B) beside root's DAG: both nodes run, no script", async () => {
    rootFile('a.sub', 'executable = /bin/sh\narguments = "-c \'echo A > a.ran\'"\nqueue\n');
    rootFile('b.sub', 'executable = /bin/sh\narguments = "-c \'echo B > b.ran\'"\nqueue\n');
    rootFile('w.dag', 'JOB A a.sub\nJOB B b.sub\nPARENT A CHILD B\n');
    // the planted script would leave the uid it ran as
    const script = nobodyFile('evil.sh', `#!/bin/sh\nid -u > ${join(shared, 'evil.ran')}\n`, 0o755);
    nobodyFile('w.dag.rescue001', `DONE A\nSCRIPT PRE B ${script}\n`);

    const r = await pool.run('dsubmit-dag', ['--wait', 'w.dag'], { cwd: shared, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(existsSync(join(shared, 'evil.ran')), false, "nobody's PRE script did not run (as root)");
    assert.equal(readFileSync(join(shared, 'a.ran'), 'utf8'), 'A\n', "root's node A ran: nobody did not mark it done");
    assert.equal(readFileSync(join(shared, 'b.ran'), 'utf8'), 'B\n');
    const out = readFileSync(join(shared, 'w.dag.dagman.out'), 'utf8');
    assert.doesNotMatch(out, /Running rescue DAG/, out);
    assert.match(out, /w\.dag\.rescue001 .*not applied/, out);
  });

  test("shared folder – root's own rescue DAG from a failed run is applied when the DAG is submitted again", async () => {
    rootFile('c.sub', 'executable = /bin/sh\narguments = "-c \'echo C >> c.ran\'"\nqueue\n');
    rootFile('d.sub', `executable = /bin/sh\narguments = "-c 'test -f ${join(shared, 'fixed')}'"\nqueue\n`);
    rootFile('v.dag', 'JOB C c.sub\nJOB D d.sub\nPARENT C CHILD D\n');
    const first = await pool.run('dsubmit-dag', ['--wait', 'v.dag'], { cwd: shared, timeoutMs: 120_000 });
    assert.notEqual(first.code, 0, 'D fails the first time');
    assert.ok(existsSync(join(shared, 'v.dag.rescue001')), 'a rescue DAG is written');
    rootFile('fixed', '');
    const second = await pool.run('dsubmit-dag', ['--wait', 'v.dag'], { cwd: shared, timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(readFileSync(join(shared, 'c.ran'), 'utf8'), 'C\n', 'C ran once: the rescue DAG was applied');
  });

  /** A file of root's no one else may write, and nobody's link to it in the shared folder. */
  const rootFileLinkedAs = (name: string) => {
    const target = join(pool.work, `root-${name}`);
    writeFileSync(target, "root's own\n", { mode: 0o600 });
    const link = join(shared, name);
    symlinkSync(target, link);
    lchownSync(link, NOBODY.uid!, NOBODY.gid!);
    return target;
  };

  test("shared folder – root's failing DAG: its dagman.out and its rescue DAG's temporary file are nobody's links: not followed", async () => {
    writeFileSync(join(shared, 'n.sub'), 'executable = /bin/false\nqueue\n');
    writeFileSync(join(shared, 'f.dag'), 'JOB N n.sub\n');
    const targets = ['f.dag.dagman.out', 'f.dag.rescue001.tmp'].map(rootFileLinkedAs);

    const r = await pool.run('dsubmit-dag', ['--wait', 'f.dag'], { cwd: shared, timeoutMs: 120_000 });
    assert.notEqual(r.code, 0, 'the node fails, so does the DAG');
    for (const t of targets) assert.equal(readFileSync(t, 'utf8'), "root's own\n", `${t} is untouched`);
    // the rescue DAG is still written, as root's own file under its own name
    assert.match(readFileSync(join(shared, 'f.dag.rescue001'), 'utf8'), /Rescue DAG file/);
  });

  test("shared folder – root's job whose event log is nobody's link: the submission is refused, the file untouched", async () => {
    const target = rootFileLinkedAs('j.log');
    writeFileSync(join(shared, 'j.sub'), `executable = /bin/true\nlog = ${join(shared, 'j.log')}\nqueue\n`);
    const r = await pool.run('dsubmit', ['j.sub'], { cwd: shared });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /error\[JOB_FILE_REFUSED\].*j\.log.*root does not write it/);
    assert.equal(readFileSync(target, 'utf8'), "root's own\n");
    const queued = (await pool.json('dq', ['-allusers'])).filter((a) => String(a.UserLog).endsWith('j.log'));
    assert.deepEqual(queued, [], 'nothing queued');
  });

  /** Root's job `name` (submit text `text`) from the shared folder, once held or gone from the queue. */
  const heldOrEnded = async (name: string, text: string) => {
    writeFileSync(join(shared, name), text);
    const r = await pool.run('dsubmit', [name], { cwd: shared });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    // held when its files cannot be written; had they been, the job would have left the queue
    return pool.waitFor(`job ${cluster} to be held or to end`, async () => {
      const [a] = await pool.json('dq', [String(cluster)]);
      return a === undefined ? { JobStatus: 'ended' } : a.JobStatus === 5 ? a : undefined;
    });
  };

  test("shared folder – root's job whose output is nobody's link: held, the file untouched", async () => {
    const target = rootFileLinkedAs('o.out');
    const ad = await heldOrEnded('o.sub', 'executable = /bin/echo\narguments = overwritten\noutput = o.out\nqueue\n');
    assert.equal(readFileSync(target, 'utf8'), "root's own\n");
    assert.equal(ad.JobStatus, 5, JSON.stringify(ad));
    assert.match(String(ad.HoldReason), /o\.out/);
  });

  test("shared folder – root's job whose output folder nobody made first: held, nothing written into it", async () => {
    const theirs = join(shared, 'outdir');
    mkdirSync(theirs);
    chmodSync(theirs, 0o777);
    chownSync(theirs, NOBODY.uid!, NOBODY.gid!);
    const ad = await heldOrEnded(
      'd.sub',
      [
        'executable = /bin/sh',
        `arguments = "-c 'mkdir outdir && echo root > outdir/a'"`,
        'should_transfer_files = YES',
        'transfer_output_files = outdir',
        'queue',
        '',
      ].join('\n'),
    );
    assert.equal(existsSync(join(theirs, 'a')), false, "root wrote nothing into nobody's folder");
    assert.equal(ad.JobStatus, 5, JSON.stringify(ad));
    assert.match(String(ad.HoldReason), /outdir/);
  });

  test("shared folder – root's job with a new event log and output in the shared folder: written, and root's own", async () => {
    writeFileSync(
      join(shared, 'k.sub'),
      `executable = /bin/echo\narguments = written\noutput = k.out\nlog = ${join(shared, 'k.log')}\nqueue\n`,
    );
    const r = await pool.run('dsubmit', ['k.sub'], { cwd: shared });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitForHistory(cluster, 1);
    assert.ok(existsSync(join(shared, 'k.log')));
    assert.match(readFileSync(join(shared, 'k.log'), 'utf8'), /^005 /m);
    assert.equal(readFileSync(join(shared, 'k.out'), 'utf8'), 'written\n');
  });
});
