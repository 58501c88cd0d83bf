// Each evaluation of a job's Requirements is bounded (grammar/classad/eval.ts), but a user with many
// autoclusters, each Requirements just under the bound and false, made every negotiation cycle take minutes:
// no other user's jobs were matched meanwhile. A submitter may take NEGOTIATOR_MAX_TIME_PER_SUBMITTER of a
// cycle; past it its jobs wait for the next cycle and the others are matched in this one. Parallel jobs are
// placed before everyone's ordinary jobs (gang.ts) and count against the same time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

/** Autoclusters of nobody: one per job, as the Requirements differ by $(Process). */
const COSTLY = 600;

describe('security – costly Requirements in the negotiator', { skip: needsRoot }, () => {
  let pool: TestPool;
  let user: ReturnType<typeof nobodyFolder>;
  before(async () => {
    // each case's jobs join a group of their own; a user may join only the pool's groups, and these take
    // what is free as ungrouped users do
    pool = await TestPool.start({
      NEGOTIATOR_MAX_TIME_PER_SUBMITTER: '1',
      GROUP_NAMES: 'costly, gangs',
      GROUP_ACCEPT_SURPLUS: 'true',
    });
    user = nobodyFolder(pool.work);
  });
  after(async () => {
    await pool?.stop();
  });

  /**
   * Queue COSTLY jobs of nobody (`lines` first), each Requirements a tenth of a second and more per evaluation,
   * within the bound, and false; wait until the negotiator is told of them; then root's plain job must run while
   * all of nobody's stay idle, and the negotiator log that nobody ran out of time. nobody's jobs are removed.
   * Each call's jobs are a submitter of their own (accounting group `name`): a submitter ad or an out-of-time
   * line of an earlier call (its jobs removed as a cycle was under way) says nothing of this one's.
   */
  async function rootRunsBeside(name: string, lines: string[]) {
    // a string of 64 KiB built in a few steps, then a substitution of each of its characters (131072 is no
    // process number here)
    const chain = ['+a0 = "xxxxxxxx"'];
    for (let i = 1; i <= 13; i++) chain.push(`+a${i} = strcat(a${i - 1}, a${i - 1})`);
    const costly = user.put(
      `${name}.sub`,
      [
        ...lines,
        `accounting_group = ${name}`,
        'executable = /bin/true',
        ...chain,
        'requirements = size(replaceAll("x", a13, "yy")) < $(Process)',
        `queue ${COSTLY}`,
      ].join('\n') + '\n',
    );
    const log = join(pool.home, 'log', 'negotiator.log');
    const logged = readFileSync(log, 'utf8').length;
    const r = await pool.run('dsubmit', [costly], { ...NOBODY, cwd: user.dir });
    assert.equal(r.code, 0, r.stderr);
    const nobodyCluster = Number(/cluster (\d+)/.exec(r.stdout)?.[1]);
    const submitter = `${name}.nobody@`;
    // the negotiator is told of nobody's idle jobs before root submits
    await pool.waitFor('the collector to show nobody idle', async () => {
      const s = await pool.run('dstatus', ['-submitters', '-af', 'Name', 'IdleJobs']);
      return s.stdout.split('\n').some((l) => l.startsWith(submitter) && l.endsWith(` ${COSTLY}`));
    });

    pool.file(`${name}-plain.sub`, 'executable = /bin/true\nqueue\n');
    const rootCluster = await pool.submit(`${name}-plain.sub`);
    const [done] = await pool.waitForHistory(rootCluster, 1, 180_000);
    assert.equal(done!.ExitCode, 0);

    // nobody's jobs match no slot: all still idle
    const statuses = (await pool.output('dq', ['-allusers', String(nobodyCluster), '-af', 'JobStatus'])).trim();
    assert.deepEqual(new Set(statuses.split('\n')), new Set(['1']));
    assert.equal(statuses.split('\n').length, COSTLY);
    await pool.waitFor('the negotiator to log that nobody ran out of time', () =>
      readFileSync(log, 'utf8')
        .slice(logged)
        .split('\n')
        .some((l) => l.includes(`"submitter":"${submitter}`) && l.includes('out of time')),
    );
    const rm = await pool.run('drm', [String(nobodyCluster)], NOBODY);
    assert.equal(rm.code, 0, rm.stderr);
  }

  test(
    "security – one user's costly false Requirements do not keep another user's job from running",
    { timeout: 240_000 },
    () => rootRunsBeside('costly', []),
  );

  test(
    "security – one user's parallel jobs with costly false Requirements do not keep another user's job from running",
    { timeout: 240_000 },
    () => rootRunsBeside('gangs', ['universe = parallel', 'machine_count = 2']),
  );
});
