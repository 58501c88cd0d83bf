// dq -autocluster (condor_q -autocluster): the schedd's autoclusters of the idle jobs, each with its id, its
// number of jobs and its significant attributes; -long and -af print the autocluster ads. A user sees their own
// jobs' autoclusters by default and every user's with -allusers, as dq shows jobs; a constraint does not see
// another user's private attributes; a malformed constraint is an error, an unknown attribute matches nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const asRoot = process.getuid?.() === 0;

describe('dq -autocluster', () => {
  let pool: TestPool;
  let small: number;
  let big: number;
  before(async () => {
    pool = await TestPool.start();
    // no slot has this much memory: the jobs stay idle, in their autoclusters
    const never = 'requirements = TARGET.Memory > 999999999\n';
    pool.file('small.sub', `executable = /bin/true\nrequest_memory = 100\n${never}queue 3\n`);
    pool.file(
      'big.sub',
      `executable = /bin/true\nrequest_memory = 200\nenvironment = "TOKEN=s3cret"\n${never}queue 2\n`,
    );
    small = await pool.submit('small.sub');
    big = await pool.submit('big.sub');
  });
  after(async () => {
    await pool?.stop();
  });

  const dq = async (args: string[], opts = {}) => {
    const r = await pool.run('dq', ['-autocluster', ...args], opts);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test('dq -autocluster – one line per autocluster: its id, its number of jobs, its significant attributes', async () => {
    const out = await dq([]);
    const lines = out.split('\n');
    assert.match(lines[1]!, /^-- Schedd: .* : <.*> @ /);
    const header = lines[2]!.split(/\s+/).filter(Boolean);
    assert.deepEqual(header.slice(0, 3), ['ID', 'COUNT', 'Owner']);
    for (const n of ['RequestMemory', 'Requirements', 'JobUniverse']) assert.ok(header.includes(n), `${n}: ${out}`);
    const rows = lines.slice(3).filter(Boolean);
    assert.equal(rows.length, 2, out);
    assert.match(rows[0]!, /^\s*\d+\s+3\s+root\s/);
    assert.match(rows[1]!, /^\s*\d+\s+2\s+root\s/);
  });

  test('dq -autocluster – -af and -long print the autocluster ads; ids and -constraint count only those jobs', async () => {
    const af = (await dq(['-af', 'JobCount', 'RequestMemory'])).trim().split('\n');
    assert.deepEqual(af, ['3 100', '2 200']);
    assert.deepEqual((await dq([`${small}.1`, '-af', 'JobCount'])).trim(), '1');
    assert.deepEqual((await dq([String(big), '-af', 'JobCount', 'RequestMemory'])).trim(), '2 200');
    assert.equal((await dq(['-constraint', 'ProcId == 0', '-af', 'JobCount'])).trim(), '1\n1');
    const long = await dq([String(big), '-long']);
    assert.match(long, /^AutoClusterId = \d+$/m);
    assert.match(long, /^JobCount = 2$/m);
    assert.match(long, /^Owner = "root"$/m);
    assert.match(long, /^RequestMemory = 200$/m);
    const xml = await dq([String(small), '-xml']);
    assert.match(xml, /^<\?xml version="1.0"\?>\n/);
    assert.match(xml, /<a n="JobCount"><i>3<\/i><\/a>/);
    assert.match(xml, /<a n="RequestMemory"><i>100<\/i><\/a>/);
    const json = JSON.parse(await dq(['-json'])) as Array<Record<string, unknown>>;
    assert.deepEqual(
      json.map((a) => a.JobCount),
      [3, 2],
    );
  });

  test('dq -autocluster – an unknown attribute matches nothing; a malformed constraint is an error', async () => {
    assert.equal(await dq(['-constraint', 'NoSuchAttribute == 7', '-af', 'AutoClusterId']), '');
    const bad = await pool.run('dq', ['-autocluster', '-constraint', 'RequestMemory >']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^dq: error\[CLASSAD_SYNTAX\]/m);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });

  test(
    "dq -autocluster – another user sees no autocluster by default, every user's with -allusers, and no private attribute",
    { skip: !asRoot && 'needs root to run a command as another user' },
    async () => {
      assert.equal(await dq(['-af', 'AutoClusterId'], NOBODY), '');
      assert.deepEqual((await dq(['-allusers', '-af', 'JobCount'], NOBODY)).trim().split('\n'), ['3', '2']);
      // the root's job environment holds a secret: a constraint of another user cannot tell it, a guess at a time
      assert.equal(
        await dq(['-allusers', '-constraint', 'regexp("s3cret", Environment)', '-af', 'JobCount'], NOBODY),
        '',
      );
      assert.equal((await dq(['-constraint', 'regexp("s3cret", Environment)', '-af', 'JobCount'])).trim(), '2');
      const long = await dq(['-allusers', '-long'], NOBODY);
      assert.doesNotMatch(long, /s3cret/);
    },
  );
});
