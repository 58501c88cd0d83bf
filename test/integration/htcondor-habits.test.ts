// What HTCondor users type, as condor_submit and condor_q take it: -a commands that override the file even
// when -a also gives the queue statement; condor_q -submitter NAME (or NAME@domain) for that user's jobs; a
// misspelt request_* command; files and file names that are not UTF-8.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneAtATime, oneAtATimeScript } from './harness/one-at-a-time.js';
import { TestPool } from './harness/pool.js';

describe('htcondor habits – condor_submit and condor_q options', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('htcondor habits – dsubmit FILE -a "arguments = …" -a "queue 2": the -a command wins over the file', async () => {
    pool.file('a.sub', 'executable = /bin/echo\narguments = from-file\noutput = a.$(Process).out\n');
    const cluster = await pool.submit('a.sub', ['-a', 'arguments = appended $(Process)', '-a', 'queue 2']);
    assert.equal((await pool.run('dwait', [String(cluster)])).code, 0);
    assert.equal(pool.read('a.0.out'), 'appended 0\n');
    assert.equal(pool.read('a.1.out'), 'appended 1\n');
  });

  test(
    "htcondor habits – dq -submitter NAME lists that user's jobs, NAME@domain too",
    { skip: process.getuid?.() !== 0 && 'needs root to submit as another user' },
    async () => {
      pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
      const mine = await pool.submit('held.sub');
      const theirs = await pool.submit('held.sub', [], {
        uid: 65534,
        gid: 65534,
        env: { USER: 'nobody', HOME: '/tmp' },
      });
      const owners = async (args: string[]) => {
        const r = await pool.run('dq', [...args, '-af', 'ClusterId', 'Owner']);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      assert.equal(await owners(['-submitter', 'nobody']), `${theirs} nobody\n`);
      assert.equal(
        await owners(['-submitter', 'root@example.org', '-constraint', `ClusterId == ${mine}`]),
        `${mine} root\n`,
      );
      const bad = await pool.run('dq', ['-submitter', 'a b']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /-submitter: 'a b' is not a user name/);
      assert.equal((await pool.run('drm', [String(mine), String(theirs)])).code, 0);
    },
  );

  test('htcondor habits – a misspelt request_memory is an error at its line, not a job no slot will ever take', async () => {
    const queued = () => pool.output('dq', ['-af', 'ClusterId', 'ProcId']);
    const before = await queued();
    pool.file('typo.sub', 'executable = /bin/true\nrequest_memroy = 2GB\nqueue\n');
    const r = await pool.run('dsubmit', ['typo.sub']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /'request_memroy' asks for a machine resource named memroy; did you mean 'request_memory'\?/,
    );
    assert.match(r.stderr, /--> typo\.sub:2:18/);
    assert.equal(await queued(), before);
    // a plain number is a valid request for such a resource: queued, with the warning
    pool.file('typo-n.sub', 'executable = /bin/true\nrequest_memroy = 2048\nhold = true\nqueue\n');
    const n = await pool.run('dsubmit', ['typo-n.sub']);
    assert.equal(n.code, 0, n.stderr);
    assert.match(
      n.stderr,
      /warning: line 2: 'request_memroy' .*did you mean 'request_memory'\? \(slots without memroy/,
    );
  });
  test('htcondor habits – a submit file, #PBS script or matched file name that is not UTF-8 is an error at its line, nothing queued', async () => {
    const queued = () => pool.output('dq', ['-af', 'ClusterId', 'ProcId']);
    const before = await queued();
    const bytes = (name: string, ...parts: Array<string | number[]>) =>
      writeFileSync(join(pool.work, name), Buffer.concat(parts.map((p) => Buffer.from(p as string))));
    // Latin-1 é: read as UTF-8 it became U+FFFD, and the job ran a script or arguments it was not given
    bytes('latin1.sub', 'executable = /bin/echo\narguments = caf', [0xe9], '\nqueue\n');
    bytes('latin1.sh', '#!/bin/sh\n#PBS -N latin1\necho caf', [0xe9], '\n');
    for (const [file, where] of [
      ['latin1.sub', /--> latin1\.sub:2:16\n/],
      ['latin1.sh', /--> latin1\.sh:3:9\n/],
    ] as const) {
      const r = await pool.run('dsubmit', [file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`error\\[SUBMIT_FILE\\]: ${file.replace('.', '\\.')} is not UTF-8 text \\(byte 0xE9\\)`),
      );
      assert.match(r.stderr, where);
    }
    mkdirSync(join(pool.work, 'm'));
    bytes('m/ok.dat', '');
    // a name is bytes: given as a Buffer, é stays the one byte 0xE9
    writeFileSync(
      Buffer.concat([Buffer.from(join(pool.work, 'm', 'f')), Buffer.from([0xe9]), Buffer.from('.dat')]),
      '',
    );
    pool.file('m/m.sub', 'executable = /bin/echo\narguments = $(Item)\nqueue matching files *.dat\n');
    const m = await pool.run('dsubmit', ['m.sub'], { cwd: join(pool.work, 'm') });
    assert.equal(m.code, 2, m.stderr);
    assert.match(m.stderr, /queue … matching: 'f\uFFFD\.dat' matches \*\.dat, but its name is not UTF-8/);
    assert.match(m.stderr, /--> m\.sub:3:7\n/);
    assert.equal(await queued(), before);
  });

  test('htcondor habits – an included file, a queue’s item file, a DAG or a node’s submit file that is not UTF-8 is an error at its line, nothing queued', async () => {
    const queued = () => pool.output('dq', ['-af', 'ClusterId', 'ProcId']);
    const before = await queued();
    const bytes = (name: string, ...parts: Array<string | number[]>) =>
      writeFileSync(join(pool.work, name), Buffer.concat(parts.map((p) => Buffer.from(p as string))));
    pool.file('u-inc.sub', 'executable = /bin/echo\ninclude : u-inc.part\nqueue\n');
    bytes('u-inc.part', 'arguments = caf', [0xe9], '\n');
    pool.file('u-items.sub', 'executable = /bin/echo\narguments = $(x)\nqueue x from u-items.txt\n');
    bytes('u-items.txt', 'a\ncaf', [0xe9], '\n');
    bytes('u.dag', 'JOB A u-ok.sub\nJOB B caf', [0xe9], '.sub\n');
    pool.file('u-ok.sub', 'executable = /bin/true\nqueue\n');
    pool.file('u-node.dag', 'JOB A u-node.sub\n');
    bytes('u-node.sub', 'executable = /bin/echo\narguments = caf', [0xe9], '\nqueue\n');
    for (const [cmd, file, code, where] of [
      ['dsubmit', 'u-inc.sub', 'SUBMIT_FILE', /--> .*u-inc\.part:1:16\n/],
      ['dsubmit', 'u-items.sub', 'SUBMIT_FILE', /--> .*u-items\.txt:2:4\n/],
      ['dsubmit-dag', 'u.dag', 'DAG_SYNTAX', /--> .*u\.dag:2:10\n/],
      ['dsubmit-dag', 'u-node.dag', 'DAG_SYNTAX', /--> .*u-node\.sub:2:16\n/],
    ] as const) {
      const r = await pool.run(cmd, [file]);
      assert.equal(r.code, 2, `${cmd} ${file}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`error\\[${code}\\]: .*is not UTF-8 text \\(byte 0xE9\\)`), r.stderr);
      assert.match(r.stderr, where, r.stderr);
    }
    assert.equal(await queued(), before);
  });

  test('htcondor habits – max_materialize = 1 runs one proc of the cluster at a time, all of them; max_idle = lots is refused at its line, nothing queued; materialize_max_idle is max_idle', async () => {
    pool.file('mat.sh', `#!/bin/sh\n${oneAtATimeScript(pool.work, 'mat', '$1')}`, 0o755);
    pool.file('mat.sub', 'executable = mat.sh\narguments = $(Process)\nmax_materialize = 1\nqueue 3\n');
    await assertOneAtATime(pool, await pool.submit('mat.sub'), 'mat', ['0', '1', '2']);

    const before = (await pool.json('dq', [])).length;
    pool.file('lots.sub', 'executable = /bin/true\nmax_idle = lots\nqueue 3\n');
    const r = await pool.run('dsubmit', ['lots.sub']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /error\[SUBMIT_INVALID\]: max_idle: 'lots' is not a number of jobs/);
    assert.match(r.stderr, /--> lots\.sub:2:12/);
    assert.equal((await pool.json('dq', [])).length, before, 'nothing queued');
    // materialize_max_idle is condor_submit's other name for max_idle: taken as it, not warned of
    pool.file('alias.sub', 'executable = /bin/true\nmaterialize_max_idle = 5\nqueue\n');
    const alias = await pool.run('dsubmit', ['--dry-run', '--json', 'alias.sub']);
    assert.equal(alias.code, 0, alias.stderr);
    assert.equal(alias.stderr, '');
    assert.equal((JSON.parse(alias.stdout) as Array<Record<string, string>>)[0]!.JobMaterializeMaxIdle, '5');
  });
});
