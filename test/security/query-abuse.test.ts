// Queries from a hostile local user (uid 65534) against a pool run by root: a constraint built to burn the
// schedd's time neither stalls another user's dq nor runs unbounded, and attributes that carry secrets
// (Environment, PRIVATE_JOB_ATTRS) are neither shown to nor testable by anyone but their owner and admins.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool, type RunOptions } from '../integration/harness/pool.js';

const asRoot = process.getuid?.() === 0;
const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const JOBS = 2000;

describe('query abuse', { skip: !asRoot && 'needs root (runs the CLIs as uid 65534)' }, () => {
  let pool: TestPool;
  let cluster: number;
  before(async () => {
    // a budget of one second makes the expensive query end within the test; PrivateNote is private by config
    pool = await TestPool.start({ QUERY_CPU_LIMIT: '1', PRIVATE_JOB_ATTRS: 'PrivateNote' });
    pool.file(
      'held.sub',
      `executable = /bin/true\nhold = true\nenvironment = "API_TOKEN=s3cret-value"\n+PrivateNote = "root's note"\n+PublicNote = "hello"\nqueue ${JOBS}\n`,
    );
    cluster = await pool.submit('held.sub');
  });
  after(async () => {
    await pool?.stop();
  });

  test("a catastrophic regexp constraint answers (false for every job) and root's dq is answered meanwhile", async () => {
    const evil = `regexp("^(a+)+$", "${'a'.repeat(40)}b")`;
    const [attack, mine] = await Promise.all([
      pool.run('dq', ['-allusers', '-af', 'ClusterId', '-constraint', evil], NOBODY),
      pool.run('dq', ['-af', 'ClusterId', 'ProcId']),
    ]);
    assert.equal(attack.code, 0, attack.stderr);
    assert.equal(attack.stdout, '', 'the pattern matches no job');
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.stdout.trim().split('\n').length, JOBS);
  });

  test("a constraint over its time budget ends with QUERY_TOO_EXPENSIVE, and root's dq is answered meanwhile", async () => {
    // a replacement over a 60,000-character string for each of the jobs: far more than a second in all
    const costly = `size(replaceAll("a", "${'a'.repeat(60_000)}", "bb")) < 0`;
    const [attack, mine] = await Promise.all([
      pool.run('dq', ['-allusers', '-totals', '-constraint', costly], NOBODY),
      pool.run('dq', ['-totals']),
    ]);
    assert.equal(attack.code, 1, attack.stdout);
    assert.match(attack.stderr, /error\[QUERY_TOO_EXPENSIVE\]: the query with constraint \(size\(replaceAll/);
    assert.equal(mine.code, 0, mine.stderr);
    assert.match(mine.stdout, new RegExp(`Total for query: ${JOBS} jobs;.* ${JOBS} held`));
  });

  test("another user's Environment and PRIVATE_JOB_ATTRS are not shown to nobody; root sees them", async () => {
    const id = `${cluster}.0`;
    const theirs = await pool.run('dq', [id, '-af', 'Environment', 'PrivateNote', 'PublicNote'], NOBODY);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(theirs.stdout.trim(), 'undefined undefined hello');
    const long = await pool.run('dq', [id, '-long'], NOBODY);
    assert.equal(long.code, 0, long.stderr);
    assert.doesNotMatch(long.stdout, /s3cret|root's note|^Environment|^PrivateNote/m);
    assert.match(long.stdout, /^PublicNote = "hello"$/m);
    const json = await pool.run('dq', [id, '-json'], NOBODY);
    assert.equal(json.code, 0, json.stderr);
    const ad = (JSON.parse(json.stdout) as Array<Record<string, unknown>>)[0]!;
    assert.equal(ad.Environment, undefined);
    assert.equal(ad.PrivateNote, undefined);
    // nor can a constraint test the secret a character at a time
    const probe = await pool.run(
      'dq',
      ['-allusers', '-totals', '-constraint', 'regexp("API_TOKEN=s", Environment) || PrivateNote =!= undefined'],
      NOBODY,
    );
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout, /Total for query: 0 jobs;/);

    const own = await pool.run('dq', [id, '-af', 'Environment', 'PrivateNote']);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stdout.trim(), "API_TOKEN=s3cret-value root's note");
    const rootProbe = await pool.run('dq', ['-totals', '-constraint', 'regexp("API_TOKEN=s", Environment)']);
    assert.match(rootProbe.stdout, new RegExp(`Total for query: ${JOBS} jobs;`));
  });

  test('drm -constraint on another user\'s secret matches nothing (not "permission denied" for the jobs whose secret fits)', async () => {
    const probe = await pool.run('drm', ['-constraint', 'regexp("API_TOKEN=s", Environment)'], NOBODY);
    assert.equal(probe.code, 1);
    assert.match(probe.stderr, /no jobs matched/);
    assert.doesNotMatch(probe.stderr, /permission denied/);
    const left = await pool.run('dq', ['-totals']);
    assert.match(left.stdout, new RegExp(`Total for query: ${JOBS} jobs;`), 'nothing was touched');
  });

  test('finished jobs keep their secrets from other users in dhistory too', async () => {
    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    const hist = await pool.waitFor('the jobs in history', async () => {
      const r = await pool.run('dhistory', [`${cluster}.0`, '-af', 'Environment', 'PublicNote'], NOBODY);
      return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
    });
    assert.equal(hist, 'undefined hello');
    const own = await pool.run('dhistory', [`${cluster}.0`, '-af', 'Environment']);
    assert.equal(own.stdout.trim(), 'API_TOKEN=s3cret-value');
  });
});
