// A local user (uid 65534) writes terminal control characters into their job's values (arguments, batch name,
// an attribute of their own, a hold reason): escape sequences that set the title of the terminal of whoever
// looks at the queue, clear its screen or make it answer back, a carriage return over a line, a newline that
// prints a forged row, a bidirectional override. Root's `dq`, `dhistory` tables and `-af`/`-format` show them
// as visible escapes, never as the characters themselves; `-json` keeps the exact value.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

// what must never reach root's terminal raw (a line's own newline and -af:t's tabs aside)
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const ESC = '\x1b]0;owned\x07\x1b[2J\x1b[6n\r\u202e';
const FORGED = '9.0   root  12/6  00:00 0+00:00:00 R  0   0.0 FORGED';

describe('security – terminal control characters in job values', { skip: needsRoot }, () => {
  let pool: TestPool;
  let cluster: number;
  before(async () => {
    pool = await TestPool.start();
    const { dir, put } = nobodyFolder(pool.work);
    const sub = put(
      'esc.sub',
      `executable = /bin/sh\narguments = "-c 'sleep 600' x${ESC}"\nbatch_name = b${ESC}\n+Note = "a\\n${FORGED}\\n${ESC}"\nqueue\n`,
    );
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const h = await pool.run('dhold', [String(cluster), '-reason', `why${ESC}`], { ...NOBODY, cwd: dir });
    assert.equal(h.code, 0, h.stdout + h.stderr);
  });
  after(async () => {
    await pool?.stop();
  });

  const clean = (what: string, out: string) => {
    assert.doesNotMatch(out, CONTROL, `${what}: ${JSON.stringify(out)}`);
    for (const line of out.split('\n'))
      assert.ok(!line.startsWith(FORGED.slice(0, 10)), `${what} printed a forged row: ${JSON.stringify(out)}`);
  };

  test("security – root's dq and dhistory tables, -af and -format show another user's control characters as escapes", async () => {
    for (const args of [
      ['-allusers'],
      ['-allusers', '-nobatch'],
      ['-allusers', '-hold'],
      ['-allusers', '-af', 'Note', 'Args'],
      ['-allusers', '-af:th', 'JobBatchName', 'Note'],
      ['-allusers', '-format', '%s\n', 'Note'],
    ]) {
      const r = await pool.run('dq', args);
      assert.equal(r.code, 0, r.stderr);
      clean(`dq ${args.join(' ')}`, r.stdout);
      assert.match(r.stdout, /\\033|\\n/, `dq ${args.join(' ')} shows the escapes: ${r.stdout}`);
    }
    const note = await pool.run('dq', ['-allusers', '-af', 'Note']);
    assert.equal(note.stdout, `a\\n${FORGED}\\n\\033]0;owned\\a\\033[2J\\033[6n\\r\\u202e\n`);
    // the exact value is still there, for a program
    const [ad] = await pool.json('dq', [String(cluster)]);
    assert.equal(ad!.Note, `a\n${FORGED}\n${ESC}`);

    const rm = await pool.run('drm', [String(cluster)], NOBODY);
    assert.equal(rm.code, 0, rm.stderr);
    await pool.waitForHistory(cluster, 1);
    for (const args of [[], ['-af', 'Note'], ['-format', '%s\n', 'JobBatchName']]) {
      const r = await pool.run('dhistory', args);
      assert.equal(r.code, 0, r.stderr);
      clean(`dhistory ${args.join(' ')}`, r.stdout);
    }
  });
});
