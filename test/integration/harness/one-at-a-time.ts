// A cluster limited to one running job at a time (#PBS -t 1-3%1, max_materialize = 1): each job records how
// many of its cluster's jobs run beside it, then waits for the test's go, so that the limit is seen without
// timing anything.
import assert from 'node:assert/strict';
import type { TestPool } from './pool.js';

/** The job's script body: `tag`-running.ID while it runs, the count it saw in `tag`-seen.ID, `tag`-go to end. */
export function oneAtATimeScript(dir: string, tag: string, id: string): string {
  return `touch ${dir}/${tag}-running.${id}\nls ${dir} | grep -c '^${tag}-running\\.' > ${dir}/${tag}-seen.${id}\nwhile [ ! -e ${dir}/${tag}-go ]; do sleep 0.1; done\nrm ${dir}/${tag}-running.${id}\n`;
}

/** Cluster `c` of three jobs runs one at a time, all of them, each alone (`ids`: the ids its scripts use). */
export async function assertOneAtATime(pool: TestPool, c: number, tag: string, ids: readonly string[]): Promise<void> {
  const first = await pool.waitFor('a job of the cluster to run', async () => {
    const ads = await pool.json('dq', [String(c)]);
    return ads.some((a) => a.JobStatus === 2) && ads;
  });
  assert.deepEqual(first.map((a) => a.JobStatus).sort(), [1, 1, 2], 'one running, the others idle while it runs');
  pool.file(`${tag}-go`, '');
  const done = await pool.waitForHistory(c, 3);
  assert.deepEqual(
    done.map((a) => a.ExitCode),
    [0, 0, 0],
  );
  for (const i of ids) assert.equal(pool.read(`${tag}-seen.${i}`), '1\n', `job ${i} ran alone`);
}
