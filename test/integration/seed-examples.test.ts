// The seed documents' examples run as written (only the Python path adapted to this machine):
// HTCondor's simple.job and script.job (Queue 100, GetEnv, Environment), and PBS's test.py (#PBS -J 0-99, -V).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestPool } from './harness/pool.js';

const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'submit', name), 'utf8');
const PYTHON = '/usr/bin/python3';
const py = (text: string) =>
  text.replace(/^#!\/usr\/bin\/env python3\.5/, `#!${PYTHON}`).replace('/usr/local/bin/python3.5', PYTHON);

describe('seed examples', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('seed – simple.job prints Hello, HTCondor!', async () => {
    pool.file('simple.job', py(fixture('simple.job')));
    const r = await pool.run('dsubmit', ['simple.job']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('simple_stdout.txt'), 'Hello, HTCondor!\n');
    assert.equal(pool.read('simple_stderr.txt'), '');
    assert.match(pool.read('simple.log'), /Normal termination \(return value 0\)/);
  });

  test('seed – script.job runs test.py 100 times with its environment', async () => {
    // the HTCondor test.py of the seed: the PBS one without its #PBS lines behaves the same outside PBS
    pool.file('test.py', py(fixture('test.py')).replace(/^#PBS.*\n/gm, ''), 0o755);
    pool.file('script.job', fixture('script.job'));
    const r = await pool.run('dsubmit', ['script.job']);
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/^100 job\(s\) submitted to cluster (\d+)\.$/m.exec(r.stdout)![1]);
    const hist = await pool.waitForHistory(cluster, 100, 180_000);
    assert.ok(hist.every((a) => a.ExitCode === 0 && a.JobStatus === 4));
    for (const p of [0, 13, 99]) {
      const out = pool.read(`script_stdout.${cluster}.${p}.txt`);
      assert.match(out, new RegExp(`^I am process ${p} of cluster ${cluster}$`, 'm'));
      assert.match(out, /^MYVAR1 = foo$/m);
      assert.match(out, /^MYVAR2 = bar$/m);
      assert.equal(pool.read(`script_stderr.${cluster}.${p}.txt`), '');
    }
  });

  test('seed – the PBS test.py array (#PBS -J 0-99, -V) runs with PBS variables', async () => {
    pool.file('pbs_test.py', py(fixture('test.py')), 0o755);
    const r = await pool.run('dsubmit', ['pbs_test.py'], { env: { MYVAR1: 'foo', MYVAR2: 'bar' } });
    assert.equal(r.code, 0, r.stderr);
    const m = /^(\d+)\[\]\.\S+$/m.exec(r.stdout);
    assert.ok(m, `qsub prints the array id: ${r.stdout}`);
    const cluster = Number(m[1]);
    const hist = await pool.waitForHistory(cluster, 100, 180_000);
    assert.ok(
      hist.every((a) => a.ExitCode === 0),
      JSON.stringify(hist.find((a) => a.ExitCode !== 0)),
    );
    const outs = hist.map((a) => String(a.Out));
    const five = outs.find((o) => o.endsWith(`.${cluster}.5`) || o.endsWith(`.o${cluster}.5`)) ?? outs[0]!;
    const text = readFileSync(five, 'utf8');
    assert.match(text, new RegExp(`^I am process \\d+ of cluster ${cluster}$`, 'm'));
    assert.match(text, /^MYVAR1 = foo$/m);
  });
});
