// A job's chirp (and its owner's dqedit) changes one attribute at a time, each at most a ClassAd of 1 MiB; a
// running job of a local user (uid 65534) that chirped new attributes without end grew its ad in the startd's
// and the schedd's memory and in the queue until they were full for every user. A job's attributes may grow to
// MAX_JOB_ATTRS_CHARS: past it a chirp or dqedit that adds is refused with INPUT_TOO_LARGE (one that does not
// grow them is taken), and the job's ad in the queue stays within the bound.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_JOB_ATTRS_CHARS, attrsGrowthRefusal } from '../../lib/job-attrs.js';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';
// a value of 100,000 characters fits an argument of dchirp (the kernel takes at most 128 KiB per argument)
const CHUNK = 100_000;
const TRIES = Math.ceil(MAX_JOB_ATTRS_CHARS / CHUNK) + 5;

test('security – the bound counts names and values; a change that does not grow the attributes is taken', () => {
  const full = { Big: 'a'.repeat(MAX_JOB_ATTRS_CHARS - 5) };
  assert.equal(attrsGrowthRefusal(full, [['X', '1']]), undefined, 'exactly at the bound');
  assert.match(attrsGrowthRefusal(full, [['XY', '1']]) ?? '', /would hold 4194305 characters; at most 4194304/);
  assert.equal(attrsGrowthRefusal({ ...full, X: '12345' }, [['X', '1']]), undefined, 'smaller');
  assert.equal(attrsGrowthRefusal({ ...full, X: '12345' }, [['X', '54321']]), undefined, 'the same size');
});

describe('security – a job ad that grows without end', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – chirp and dqedit cannot grow a job past MAX_JOB_ATTRS_CHARS; a change that does not grow it is taken', async () => {
    const { dir, put } = nobodyFolder(pool.work);
    put(
      'grow.sh',
      [
        '#!/bin/sh',
        `v=$(head -c ${CHUNK} /dev/zero | tr '\\0' a)`,
        `i=0; while [ $i -lt ${TRIES} ]; do i=$((i+1))`,
        '  dchirp set_job_attr Big$i "\\"$v\\"" 2>> refused.txt || { echo "refused at $i" > stop.txt; break; }',
        'done',
        // replacing a value by one of the same size does not grow the ad: taken
        'dchirp set_job_attr Big1 "\\"$v\\"" 2>> refused.txt && echo replaced >> stop.txt',
        'dchirp set_job_attr Progress 1 && echo done > done.txt',
        'sleep 600',
        '',
      ].join('\n'),
      0o755,
    );
    const sub = put('grow.sub', 'executable = grow.sh\noutput = grow.out\nerror = grow.err\nqueue\n');
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const ad = await pool.waitFor(
      'the job to chirp its Progress',
      async () =>
        existsSync(join(dir, 'done.txt'))
          ? (await pool.json('dq', [String(cluster)])).find((a) => a.Progress === 1)
          : undefined,
      180_000,
    );
    const stop = readFileSync(join(dir, 'stop.txt'), 'utf8');
    const at = Number(/refused at (\d+)/.exec(stop)?.[1]);
    assert.ok(at > 1 && at < TRIES, `the chirps stop before ${TRIES}: ${stop}`);
    assert.match(stop, /replaced/);
    assert.match(
      readFileSync(join(dir, 'refused.txt'), 'utf8'),
      /error\[INPUT_TOO_LARGE\]: chirp: the job's attributes would hold/,
    );
    const big = Object.keys(ad).filter((k) => /^Big\d+$/.test(k));
    assert.equal(big.length, at - 1);
    assert.ok(JSON.stringify(ad).length < MAX_JOB_ATTRS_CHARS + 64 * 1024, 'the queued ad stays within the bound');

    // the owner's dqedit cannot take it further either, and says why
    const e = await pool.run('dqedit', [String(cluster), 'More', `"${'b'.repeat(CHUNK)}"`], { ...NOBODY, cwd: dir });
    assert.notEqual(e.code, 0, e.stdout);
    assert.match(e.stderr, /INPUT_TOO_LARGE/);
    assert.equal((await pool.json('dq', [String(cluster)]))[0]!.More, undefined);
    const rm = await pool.run('drm', [String(cluster)], NOBODY);
    assert.equal(rm.code, 0, rm.stderr);
  });
});
