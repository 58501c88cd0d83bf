// Every command reads a job id the same way (cli/shared/job-id.ts): the PBS ids dsubmit prints for a #PBS
// script (`C.host`, `C[].host`, `C[I].host`, with or without the host) name jobs for dwait and dtail as they
// do for dq and drm, and a word that is no job id is refused with the same text by each.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

const FORMS = "cluster, cluster.proc, or PBS's cluster.host, cluster[].host, cluster[index].host";

describe('pbs job ids – dwait and dtail take what dsubmit prints', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('pbs job ids – dtail C[I].host and C.host read a running job; dwait C[].host, C[] and C[I] wait', async () => {
    const go = join(pool.work, 'go');
    const wait = `while [ ! -e ${go} ]; do sleep 0.1; done`;
    pool.file('arr.sh', `#!/bin/sh\n#PBS -J 1-3\necho "index $PBS_ARRAY_INDEX"\n${wait}\n`, 0o755);
    pool.file('one.sh', `#!/bin/sh\necho single\n${wait}\n`, 0o755);
    const arr = (await pool.run('dsubmit', ['arr.sh'])).stdout.trim();
    const one = (await pool.run('dsubmit', ['one.sh'])).stdout.trim();
    assert.match(arr, /^\d+\[\]\.\S+$/);
    assert.match(one, /^\d+\.\S+$/);
    const c = Number(arr.split('[')[0]);
    await pool.waitFor('every job running', async () => {
      const ads = await pool.json('dq', [String(c), one]);
      return ads.length === 4 && ads.every((a) => a.JobStatus === 2);
    });
    const sub = await pool.run('dtail', [arr.replace('[]', '[2]')]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(sub.stdout, 'index 2\n');
    const single = await pool.run('dtail', [one]);
    assert.equal(single.code, 0, single.stderr);
    assert.equal(single.stdout, 'single\n');
    const bounded = await pool.run('dwait', ['-wait', '1', `${c}[]`]);
    assert.equal(bounded.code, 1, 'still running: -wait gives up');
    assert.match(bounded.stderr, /3 job\(s\) still in the queue/);
    mkdirSync(go);
    for (const id of [arr, `${c}[]`, `${c}[3]`, arr.replace('[]', '[1]'), one]) {
      const w = await pool.run('dwait', [id]);
      assert.equal(w.code, 0, `dwait ${id}: ${w.stderr}${w.stdout}`);
    }
    const missing = await pool.run('dwait', [`${c}[9]`]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      new RegExp(`error\\[JOB_NOT_FOUND\\]: job ${c}\\[9\\] is neither in the queue nor in the history`),
    );
  });

  test('pbs job ids – a word that is no job id: the same text from dwait, dtail and drm', async () => {
    const bad = '5[x]';
    const wait = await pool.run('dwait', [bad]);
    const tail = await pool.run('dtail', [bad]);
    const rm = await pool.run('drm', [bad]);
    for (const r of [wait, tail, rm]) assert.equal(r.code, 2, r.stderr);
    assert.ok(wait.stderr.includes(`"5[x]" is neither a job id (${FORMS}) nor a job event log file`), wait.stderr);
    assert.ok(tail.stderr.includes(`"5[x]" is not a job id (${FORMS})`), tail.stderr);
    assert.ok(rm.stderr.includes(`"5[x]" is neither a job id (${FORMS}) nor a user name`), rm.stderr);
  });
});
