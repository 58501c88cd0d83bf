// File transfer without a shared file system (should_transfer_files = YES): input files and directories go
// into the job's sandbox over gRPC, output comes back into the initial directory (remaps applied), and
// names or links that would escape the sandbox are refused with HTCondor's hold codes 12 and 13. Also
// dchirp: a running job updates its own ad.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('file transfer', () => {
  let pool: TestPool;
  before(async () => {
    // the machine evicts the checkpoint test's job once, after 2 s of its first run
    pool = await TestPool.start({
      POLLING_INTERVAL: '1',
      PREEMPT: 'TARGET.CheckpointTest =?= true && TARGET.NumJobStarts == 0 && (time() - MY.EnteredCurrentActivity) > 2',
    });
  });
  after(async () => {
    await pool?.stop();
  });

  const submit = (
    name: string,
    text: string,
    opts: { uid?: number; gid?: number; env?: Record<string, string> } = {},
  ) => {
    const path = pool.file(name, text);
    // dsubmit runs where the submit file is: that directory is the job's initial directory
    return pool.submit(path, [], { ...opts, cwd: dirname(path) });
  };
  const held = (cluster: number) =>
    pool.waitFor(`job ${cluster} to be held`, async () =>
      (await pool.json('dq', [String(cluster), '-allusers'])).find((a) => a.JobStatus === 5),
    );

  test('inputs (file, directory, directory contents, stdin, executable) arrive; new output files come back', async () => {
    mkdirSync(join(pool.work, 'ft1/data/inner'), { recursive: true });
    mkdirSync(join(pool.work, 'ft1/more'), { recursive: true });
    writeFileSync(join(pool.work, 'ft1/in.txt'), 'input one\n');
    writeFileSync(join(pool.work, 'ft1/data/inner/deep.txt'), 'deep\n');
    writeFileSync(join(pool.work, 'ft1/more/m1.txt'), 'm1\n');
    writeFileSync(join(pool.work, 'ft1/stdin.txt'), 'from stdin\n');
    // a large random file checks that chunks and checksums survive the trip both ways
    const big = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(pool.work, 'ft1/big.bin'), big);
    pool.file(
      'ft1/job.sh',
      [
        '#!/bin/sh',
        'echo "cwd=$(pwd)"',
        'cat in.txt data/inner/deep.txt m1.txt',
        'read line; echo "stdin: $line"',
        'cp big.bin big.copy',
        'echo made > made.txt',
        'mkdir sub && echo no > sub/not-sent.txt',
        'echo oops >&2',
      ].join('\n') + '\n',
      0o755,
    );
    const c = await submit(
      'ft1/ft1.sub',
      'executable = job.sh\nshould_transfer_files = YES\ntransfer_input_files = in.txt, data, more/, big.bin\ninput = stdin.txt\noutput = ft1.out\nerror = ft1.err\nlog = ft1.log\nqueue\n',
    );
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    const out = pool.read('ft1/ft1.out');
    assert.match(out, /^cwd=.*execute/m, 'the job runs in its sandbox, not in the submit directory');
    assert.match(out, /input one\ndeep\nm1\nstdin: from stdin\n/);
    assert.equal(pool.read('ft1/ft1.err'), 'oops\n');
    assert.equal(pool.read('ft1/made.txt'), 'made\n');
    const copy = readFileSync(join(pool.work, 'ft1/big.copy'));
    assert.equal(createHash('sha256').update(copy).digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.ok(!pool.exists('ft1/sub'), 'subdirectories are not sent back unless listed');
    assert.ok(!pool.exists('ft1/m1.txt'), 'an input that did not change is not sent back');
  });

  test('transfer_output_files with remaps: listed files and directories land where the remaps say', async () => {
    mkdirSync(join(pool.work, 'ft2/results'), { recursive: true });
    pool.file(
      'ft2/job.sh',
      '#!/bin/sh\necho r > result.txt\nmkdir -p d && echo deep > d/deep.txt\necho extra > extra.txt\n',
      0o755,
    );
    const c = await submit(
      'ft2/ft2.sub',
      'executable = job.sh\nshould_transfer_files = YES\ntransfer_output_files = result.txt, d\ntransfer_output_remaps = "result.txt = results/final.txt; d = dcopy"\nqueue\n',
    );
    await pool.waitForHistory(c, 1);
    assert.equal(pool.read('ft2/results/final.txt'), 'r\n');
    assert.equal(pool.read('ft2/dcopy/deep.txt'), 'deep\n');
    assert.ok(!pool.exists('ft2/extra.txt'), 'only the listed output comes back');
    assert.ok(!pool.exists('ft2/result.txt'));
  });

  test('a missing input file is refused at submit with its place in the file, as condor_submit refuses it', async () => {
    pool.file(
      'ft3r.sub',
      'executable = /bin/true\nshould_transfer_files = YES\ntransfer_input_files = no-such-input.txt\nqueue\n',
    );
    const r = await pool.run('dsubmit', ['ft3r.sub']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /error\[SUBMIT_FILE\]: transfer_input_files: 'no-such-input\.txt' does not exist/);
    assert.match(r.stderr, /ft3r\.sub:3:24/);
  });

  test('an input file missing when the job starts holds it with code 13 and says which file', async () => {
    // skip_filechecks: the file may appear before the job runs; here it never does
    const c = await submit(
      'ft3.sub',
      'executable = /bin/true\nshould_transfer_files = YES\nskip_filechecks = true\ntransfer_input_files = no-such-input.txt\nqueue\n',
    );
    const ad = await held(c);
    assert.equal(ad.HoldReasonCode, 13);
    assert.match(
      String(ad.HoldReason),
      /Transfer input files failure.*no-such-input\.txt: \(errno 2\) No such file or directory/,
    );
    const hold = await pool.run('dq', ['-hold', String(c)]);
    assert.match(hold.stdout, /no-such-input\.txt/);
    await pool.run('drm', [String(c)]);
  });

  test('a listed output the job did not write holds it with code 12; its stdout still comes back', async () => {
    const c = await submit(
      'ft4.sub',
      'executable = /bin/echo\narguments = printed\nshould_transfer_files = YES\noutput = ft4.out\ntransfer_output_files = never-written.txt\nqueue\n',
    );
    const ad = await held(c);
    assert.equal(ad.HoldReasonCode, 12);
    assert.match(
      String(ad.HoldReason),
      /Transfer output files failure.*never-written\.txt: \(errno 2\) No such file or directory/,
    );
    assert.equal(ad.ExitCode, 0, 'the exit status is recorded all the same');
    assert.equal(pool.read('ft4.out'), 'printed\n');
    await pool.run('drm', [String(c)]);
  });

  test('escapes are refused: a link out of the sandbox, a name with .. in the ad, and at submit time', async () => {
    pool.file('ft5.sh', '#!/bin/sh\nln -s /etc/passwd leak.txt\n', 0o755);
    const link = await submit(
      'ft5.sub',
      'executable = ft5.sh\nshould_transfer_files = YES\ntransfer_output_files = leak.txt\nqueue\n',
    );
    const a = await held(link);
    assert.equal(a.HoldReasonCode, 12);
    assert.match(String(a.HoldReason), /leak\.txt is a link to \/etc\/passwd, outside the job's sandbox/);
    assert.ok(!pool.exists('leak.txt'));
    // an ad that bypasses the submit checks (+Attr) is stopped by the startd
    const dotdot = await submit(
      'ft6.sub',
      'executable = /bin/true\nshould_transfer_files = YES\n+TransferOutput = "../../../../etc/hostname"\nqueue\n',
    );
    const b = await held(dotdot);
    assert.equal(b.HoldReasonCode, 12);
    assert.match(
      String(b.HoldReason),
      /'\.\.\/\.\.\/\.\.\/\.\.\/etc\/hostname' is not a plain relative name inside the job's sandbox/,
    );
    // dsubmit refuses it with the place in the file, and queues nothing
    pool.file(
      'ft7.sub',
      'executable = /bin/true\nshould_transfer_files = YES\ntransfer_output_files = ok.txt, /etc/shadow\nqueue\n',
    );
    const before = (await pool.json('dq', ['-allusers'])).length;
    const r = await pool.run('dsubmit', ['ft7.sub']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ft7\.sub:3:25/);
    assert.match(r.stderr, /'\/etc\/shadow' is outside the job's sandbox/);
    assert.equal((await pool.json('dq', ['-allusers'])).length, before);
    await pool.run('drm', [String(link), String(dotdot)]);
  });

  test(
    'another user cannot have the schedd read a file they may not read',
    { skip: process.getuid?.() !== 0 && 'needs root to run a command as another user' },
    async () => {
      const dir = join(pool.work, 'ft8');
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      writeFileSync(join(dir, 'secret.txt'), 'root only\n', { mode: 0o600 });
      const c = await submit(
        'ft8/ft8.sub',
        'executable = /bin/true\nshould_transfer_files = YES\ntransfer_input_files = secret.txt\nqueue\n',
        {
          uid: 65534,
          gid: 65534,
          env: { USER: 'nobody', HOME: '/tmp' },
        },
      );
      const ad = await held(c);
      assert.equal(ad.HoldReasonCode, 13);
      assert.match(String(ad.HoldReason), /secret\.txt: \(errno 13\) Permission denied/);
      await pool.run('drm', [String(c)]);
    },
  );

  test('when_to_transfer_output = ON_EXIT_OR_EVICT: the checkpoint of an evicted job comes back as input for its next run', async () => {
    pool.file(
      'ck/ck.sh',
      [
        '#!/bin/sh',
        'if [ -f ckpt.txt ]; then echo "resumed from $(cat ckpt.txt)"; echo done > final.txt; exit 0; fi',
        // kill_sig: the job saves its state when the machine evicts it
        "trap 'echo step-7 > ckpt.txt; exit 0' QUIT",
        'i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
        'exit 9',
      ].join('\n') + '\n',
      0o755,
    );
    const c = await submit(
      'ck/ck.sub',
      'executable = ck.sh\nshould_transfer_files = YES\nwhen_to_transfer_output = ON_EXIT_OR_EVICT\nkill_sig = SIGQUIT\n+CheckpointTest = true\noutput = ck.out\nlog = ck.log\nqueue\n',
    );
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(ad!.NumJobStarts, 2);
    assert.match(pool.read('ck/ck.log'), /^004 /m, 'the eviction is in the event log');
    assert.equal(pool.read('ck/ck.out'), 'resumed from step-7\n');
    assert.equal(pool.read('ck/final.txt'), 'done\n');
  });

  test('dchirp: a running job sets an attribute that dq shows while it runs; it may not change its owner', async () => {
    // the job finds dchirp on its PATH, as the README's example runs it
    const chirp = 'dchirp';
    pool.file(
      'chirp.sh',
      [
        '#!/bin/sh',
        `${chirp} set_job_attr Progress 0.42 || exit 10`,
        `${chirp} set_job_attr Stage '"analysis"' || exit 11`,
        `${chirp} set_job_attr Owner '"mallory"' 2> owner.err && exit 12`,
        `${chirp} get_job_attr Progress > got.txt || exit 13`,
        // wait (bounded) until the test has seen the attribute
        'i=0; while [ ! -f "$GO" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
      ].join('\n') + '\n',
      0o755,
    );
    const go = join(pool.work, 'chirp.go');
    const c = await submit(
      'chirp.sub',
      `executable = chirp.sh\nenvironment = "GO=${go}"\noutput = chirp.out\nerror = chirp.err\nqueue\n`,
    );
    const seen = await pool.waitFor('Progress in dq', async () => {
      const r = await pool.run('dq', [String(c), '-af', 'Progress', 'Stage', 'JobStatus']);
      return /^0\.42 analysis 2$/m.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(seen, /0\.42 analysis 2/);
    writeFileSync(go, '');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, pool.read('chirp.err'));
    assert.notEqual(ad!.Owner, 'mallory');
    assert.equal(ad!.Progress, 0.42);
    assert.equal(pool.read('got.txt').trim(), '0.42');
    assert.match(pool.read('owner.err'), /may not change its Owner/);
  });
});
