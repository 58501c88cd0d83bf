// dq -analyze / -better-analyze on a real pool (4 cpus, 4096 MB): a job asking for more memory than any slot
// stays idle and the analysis names the memory clause; a job that fits is shown running; a held job shows
// its HoldReason; -analyze without an id analyses only the user's idle jobs. condor_q's other analyze options:
// -unmatchable, -analyze:summary with -machine and -mconstraint, -reverse-analyze, -nouserprios.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('analyze', () => {
  let pool: TestPool;
  let big: number;
  let fits: number;
  before(async () => {
    pool = await TestPool.start();
    pool.file('big.sub', 'executable = /bin/sleep\narguments = 60\nrequest_memory = 64000\nqueue\n');
    // it runs until the pool stops (its dynamic slot is part of what the tests analyse): a job of a fixed
    // length could end before the last of them on a loaded machine
    pool.file(
      'fits.sub',
      `executable = /bin/sh\narguments = "-c 'while :; do sleep 1; done'"\nrequest_memory = 512\nqueue\n`,
    );
    const submit = (f: string) => pool.submit(f);
    big = await submit('big.sub');
    fits = await submit('fits.sub');
    await pool.waitFor(
      'the fitting job to run',
      async () => (await pool.json('dq', [String(fits)]))[0]?.JobStatus === 2,
    );
  });
  after(async () => {
    await pool?.stop();
  });

  const dq = (args: string[]) => pool.output('dq', args);

  test('analyze – a job asking for more memory than the pool has stays idle and the memory clause is named', async () => {
    const [ad] = await pool.json('dq', [String(big)]);
    assert.equal(ad!.JobStatus, 1);
    // the negotiator advertises itself a moment after the pool starts: asked again until it has
    const r = await pool.waitFor("dq -analyze to find the negotiator and the running job's slot", async () => {
      const x = await pool.run('dq', ['-analyze', `${big}.0`]);
      return /^Fair share: submitter /m.test(x.stdout) && /^Slots in the pool: 2 /m.test(x.stdout) ? x : undefined;
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^-- Job ${big}\\.0 \\(\\S+\\): Idle for `, 'm'));
    assert.match(
      r.stdout,
      /^Why: no slot matches its Requirements; clause \[\d\] TARGET\.Memory >= RequestMemory rules out the most\.$/m,
    );
    assert.match(r.stdout, /^ +\[\d\] +0 TARGET\.Memory >= RequestMemory +<- rules out the most \(1\)$/m);
    assert.match(r.stdout, /^ +0 match the job's Requirements$/m);
    assert.match(r.stdout, /RequestMemory 64000 exceeds the largest slot \(TotalMemory 4096\)/);
    // the running job's dynamic slot is in the pool, and the negotiator answered
    assert.match(r.stdout, /^Slots in the pool: 2 \(1 partitionable, 1 dynamic\)$/m);
    assert.match(r.stdout, /^Fair share: submitter \S+ has effective priority \d+\.\d\d /m);
  });

  test('analyze – a job that fits is shown running, and every step of the funnel passes', async () => {
    const r = await pool.run('dq', ['-better-analyze', String(fits)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^-- Job ${fits}\\.0 \\(\\S+\\): Running for `, 'm'));
    assert.match(r.stdout, /^Why: it is running on slot1_\d+@\S+\.$/m);
    assert.match(r.stdout, /^ +1 match the job's Requirements$/m);
    assert.match(r.stdout, /^ +1 of those accept the job \(their START\)$/m);
    assert.doesNotMatch(r.stdout, /Suggestions:/);
  });

  test('analyze – without a job id only your idle jobs are analysed', async () => {
    const r = await pool.run('dq', ['-analyze']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^-- Job ${big}\\.0 `, 'm'));
    assert.doesNotMatch(r.stdout, new RegExp(`^-- Job ${fits}\\.0 `, 'm'));
  });

  test('analyze – -unmatchable lists the idle jobs no slot would ever run', async () => {
    const out = await dq(['-unmatchable']);
    assert.match(out, /^ID +OWNER +SUBMITTED +RUN_TIME +ST +PRI +SIZE +CMD$/m);
    assert.match(out, new RegExp(`^${big}\\.0 +\\S+ .* I +0 `, 'm'));
    assert.doesNotMatch(out, new RegExp(`^${fits}\\.0 `, 'm'));
    assert.match(out, /^Total for query: 1 jobs; 0 completed, 0 removed, 1 idle, 0 running, 0 held, 0 suspended$/m);
  });

  test('analyze – -analyze:summary counts the slots at each step, -machine and -mconstraint choose them', async () => {
    const out = await dq(['-analyze:summary', String(big), String(fits)]);
    assert.match(out, /^ID +OWNER +SLOTS +REQUIREMENTS +START +FITS +AVAILABLE$/m);
    // the partitionable slot and the running job's dynamic slot are the pool; the big job fits neither
    assert.match(out, new RegExp(`^${big}\\.0 +\\S+ +\\d+ +0 +0 +0 +0$`, 'm'));
    assert.match(out, new RegExp(`^${fits}\\.0 +\\S+ +\\d+ +[1-9]\\d* +[1-9]\\d* +[1-9]\\d* +\\d+$`, 'm'));
    const none = await dq(['-better-analyze:summary', '-mconstraint', 'TotalMemory > 100000', String(fits)]);
    assert.match(none, new RegExp(`^${fits}\\.0 +\\S+ +0 +0 +0 +0 +0$`, 'm'));
    const [host] = (await pool.run('dstatus', ['-af', 'Machine'])).stdout.trim().split('\n');
    const one = await dq(['-analyze:summary', '-machine', host!, String(fits)]);
    assert.match(one, new RegExp(`^${fits}\\.0 +\\S+ +1 +1 +1 +1 +\\d+$`, 'm'));
    const nowhere = await dq(['-analyze:summary', '-machine', 'no-such-host', String(fits)]);
    assert.match(nowhere, new RegExp(`^${fits}\\.0 +\\S+ +0 +0 +0 +0 +0$`, 'm'));
    const bad = await pool.run('dq', ['-analyze:everything']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-analyze:everything: the qualifiers are summary, reverse and priority/);
    const alone = await pool.run('dq', ['-machine', 'x']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /-machine goes with -analyze/);
    // a malformed -mconstraint is refused where it is, even with no idle job of the user's to analyze
    const malformed = await pool.run('dq', ['-analyze', '-mconstraint', 'Memory ==', '-submitter', 'nobody-here']);
    assert.equal(malformed.code, 2, malformed.stderr);
    assert.match(malformed.stderr, /error\[CLASSAD_SYNTAX\].*\n--> <-mconstraint>:1:/);
  });

  test('analyze – -reverse-analyze is -analyze -reverse; -nouserprios leaves fair share out', async () => {
    // the same analysis but for what moves between the two calls: the time the job has been idle, and the
    // submitter's running jobs as the negotiator last heard of them (the schedd's next submitter ad may land
    // between the calls)
    const since = (text: string) =>
      text.replace(/ for \d+\+\d\d:\d\d:\d\d$/m, '').replace(/, \d+ jobs? running\.$/m, ', N jobs running.');
    assert.equal(
      since(await dq(['-reverse-analyze', String(big)])),
      since(await dq(['-analyze', '-reverse', String(big)])),
    );
    const out = await dq(['-analyze', '-nouserprios', '-verbose', String(big)]);
    assert.match(out, new RegExp(`^-- Job ${big}\\.0 `, 'm'));
    assert.match(out, /^Fair share: unknown \(not asked: -nouserprios\)\.$/m);
  });

  test('analyze – a held job shows its HoldReason; an unknown job is an error', async () => {
    const h = await pool.run('dhold', [String(big), '-reason', 'checking the analysis']);
    assert.equal(h.code, 0, h.stderr);
    const r = await pool.run('dq', ['-analyze', String(big)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Why: it is held: checking the analysis/m);
    assert.match(r.stdout, new RegExp(`then drelease ${big}\\.0\\.`));
    const missing = await pool.run('dq', ['-analyze', '4242']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /job 4242 is not in the queue/);
    const usage = await pool.run('dq', ['-reverse']);
    assert.equal(usage.code, 2);
  });
});
