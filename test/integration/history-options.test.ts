// condor_history's options as scripts use them, against a real pool: -forwards, -since (a job id or an
// expression), -completedsince, -attributes, -limit/-match, -userlog and -file (ads read with the user's rights);
// -long:json|xml, -wide[:N], -local, -name SCHEDD, and the options refused with the reason.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('history options – dhistory as condor_history scripts call it', () => {
  let pool: TestPool;
  const clusters: number[] = [];
  before(async () => {
    pool = await TestPool.start();
    pool.file('t.sub', 'executable = /bin/true\nlog = t.log\nqueue\n');
    // one after another, so that the history's order (the order jobs finished in) is the clusters' order
    for (let i = 0; i < 3; i++) {
      const c = await pool.submit('t.sub');
      assert.equal((await pool.run('dwait', [String(c)])).code, 0);
      await pool.waitForHistory(c, 1);
      clusters.push(c);
    }
  });
  after(async () => {
    await pool?.stop();
  });

  const ids = async (args: string[]) => {
    const r = await pool.run('dhistory', [...args, '-af', 'ClusterId']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map(Number);
  };

  test('history options – shell completion offers the new options', async () => {
    for (const [word, option] of [
      ['--forw', '--forwards'],
      ['--sin', '--since'],
      ['--completeds', '--completedsince'],
      ['--fi', '--file'],
    ]) {
      const r = await pool.run('dhistory', ['--get-yargs-completions', 'dhistory', word!]);
      assert.ok(r.stdout.split('\n').includes(option!), `${word}: ${r.stdout}`);
    }
  });

  test('history options – newest first by default, -forwards oldest first, -limit N of either end', async () => {
    const [a, b, c] = clusters as [number, number, number];
    assert.deepEqual(await ids([]), [c, b, a]);
    assert.deepEqual(await ids(['-backwards']), [c, b, a]);
    assert.deepEqual(await ids(['-forwards']), [a, b, c]);
    assert.deepEqual(await ids(['-forwards', '-limit', '2']), [a, b]);
    assert.deepEqual(await ids(['-match', '1']), [c]);
  });

  test('history options – -since JOB stops there (not shown), -since EXPR at the first job it holds for', async () => {
    const [a, b, c] = clusters as [number, number, number];
    assert.deepEqual(await ids(['-since', String(a)]), [c, b]);
    assert.deepEqual(await ids(['-since', `${b}.0`]), [c]);
    assert.deepEqual(await ids(['-since', `ClusterId == ${b}`, '-forwards']), [c]);
    // the selection is applied to the jobs before the stop: the stop job itself need not be selected
    assert.deepEqual(await ids([String(a), '-since', String(b)]), []);
    assert.deepEqual(await ids([String(c), '-since', String(a)]), [c]);
    assert.deepEqual(await ids(['-since', `${a}`, '-limit', '1']), [c]);
    const bad = await pool.run('dhistory', ['-since', 'ClusterId ==']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /error\[CLASSAD_SYNTAX\]/);
  });

  test('history options – -completedsince TIME: the jobs that completed then or later', async () => {
    const h = await pool.json('dhistory', ['-attributes', 'ClusterId,CompletionDate']);
    const when = Math.max(...h.map((j) => Number(j.CompletionDate)));
    assert.deepEqual(await ids(['-completedsince', '0']), [...clusters].reverse());
    const late = await ids(['-completedsince', String(when)]);
    assert.ok(late.includes(clusters[2]!) && late.length >= 1, String(late));
    assert.deepEqual(await ids(['-completedsince', String(when + 3600)]), []);
    assert.deepEqual(await ids(['-completedsince', new Date((when + 3600) * 1000).toISOString()]), []);
    const bad = await pool.run('dhistory', ['-completedsince', 'yesterday-ish']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-completedsince: 'yesterday-ish' is neither epoch seconds nor a date/);
  });

  test('history options – -attributes A,B with -json, -long and -xml prints exactly those', async () => {
    const c = clusters[0]!;
    const json = await pool.json('dhistory', [String(c), '-attributes', 'ExitCode,Owner']);
    assert.deepEqual(json, [{ ExitCode: 0, Owner: 'root' }]);
    const long = await pool.run('dhistory', [
      String(c),
      '-long',
      '-attributes',
      'ExitCode',
      '-attributes',
      'JobStatus',
    ]);
    assert.equal(long.code, 0, long.stderr);
    assert.deepEqual(long.stdout.trim().split('\n').sort(), ['ExitCode = 0', 'JobStatus = 4']);
    const xml = await pool.run('dhistory', [String(c), '-xml', '-attributes', 'ExitCode']);
    assert.match(
      xml.stdout,
      /^<\?xml version="1.0"\?>\n[^]*<c>\n {4}<a n="ExitCode"><i>0<\/i><\/a>\n<\/c>\n<\/classads>\n$/,
    );
    const bad = await pool.run('dhistory', ['-json', '-attributes', 'Exit-Code']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-attributes: 'Exit-Code' is not an attribute name/);
  });

  test('history options – -userlog FILE lists the finished jobs of an event log, no schedd asked', async () => {
    const r = await pool.run('dhistory', ['-userlog', 't.log', '-af', 'ClusterId', 'JobStatus', 'ExitCode']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      clusters
        .map((c) => `${c} 4 0`)
        .reverse()
        .join('\n') + '\n',
    );
    const table = await pool.run('dhistory', ['-userlog', 't.log', String(clusters[1])]);
    assert.match(table.stdout, new RegExp(`^${clusters[1]}\\.0 +root .* C +0 `, 'm'));
    const missing = await pool.run('dhistory', ['-userlog', 'nope.log']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error\[FILE_UNREADABLE\]: cannot read the event log nope\.log/);
  });

  test('history options – -file reads saved ads (dhistory -long > FILE) as dhistory lists them', async () => {
    const saved = await pool.run('dhistory', ['-long']);
    assert.equal(saved.code, 0, saved.stderr);
    // a history file holds the oldest first, each ad ended by a *** line
    const ads = saved.stdout.trim().split(/\n\n/).reverse();
    pool.file('hist', ads.map((a, i) => `${a}\n*** Offset = ${i}\n`).join(''));
    assert.deepEqual(await ids(['-file', 'hist']), [...clusters].reverse());
    assert.deepEqual(await ids(['-file', 'hist', '-forwards', '-since', String(clusters[0])]), clusters.slice(1));
    assert.deepEqual(await ids(['-file', 'hist', '-constraint', `ClusterId == ${clusters[1]}`]), [clusters[1]]);
    pool.file('junk', 'this is = = not an ad\n');
    const junk = await pool.run('dhistory', ['-file', 'junk']);
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /error\[FILE_UNREADABLE\]: junk is not a file of job ads/);
    // a FIFO would make dhistory wait for a writer for ever: it is refused as not a regular file
    execFileSync('mkfifo', [`${pool.work}/fifo`]);
    const fifo = await pool.run('dhistory', ['-file', 'fifo']);
    assert.equal(fifo.code, 1);
    assert.match(fifo.stderr, /is not a regular file/);
  });

  test('history options – -long:json and -long:xml, -wide:N, -local and -name SCHEDD as condor_history takes them', async () => {
    const out = (args: string[]) => pool.output('dhistory', args);
    const [a] = clusters as [number];
    assert.deepEqual(JSON.parse(await out(['-long:json', String(a)])), JSON.parse(await out(['-json', String(a)])));
    assert.equal(await out(['-long:xml', String(a)]), await out(['-xml', String(a)]));
    assert.match(await out(['-wide', String(a)]), /^\d+\.0 .* \/bin\/true$/m);
    assert.doesNotMatch(await out(['-wide:50', String(a)]), /\/bin\/true$/m);
    const [name] = (await out(['-local', '-limit', '1', '-af', 'GlobalJobId'])).split('#');
    assert.deepEqual(await ids(['-name', name!]), await ids(['-local']));
    const unknown = await pool.run('dhistory', ['-name', 'no-such-schedd']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /-name: no schedd named no-such-schedd/);
    for (const [args, why] of [
      [['-epochs'], /-epochs: dsched keeps one history ad per job/],
      [['-startd'], /-startd: the startds keep no history of jobs/],
      [['-scanlimit', '100'], /-scanlimit: the schedd answers from its index/],
    ] as const) {
      const r = await pool.run('dhistory', [...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, why);
    }
  });
});
