// How the schedd answers while another process holds its queue's SQLite write lock (run on demand:
// `node --import tsx bench/queue-lock.ts`; BENCH_DQ sets the number of dq runs, 20 by default).
// A personal pool runs one job gated on a file, a child process takes the lock (`BEGIN EXCLUSIVE`), the job
// ends (so the schedd has a state change to write, and retries it), then `dq` is run BENCH_DQ times in a row
// and timed, and one `dsubmit` (refused with QUEUE_BUSY). The same dq runs without the lock come first, as
// the baseline (a dq's own start-up is in both). Nothing is asserted.
import { TestPool } from '../test/integration/harness/pool.js';
import { holdQueueLock, queueWriteFailures, releaseQueueLock } from '../test/integration/harness/queue-lock.js';

const N = Number(process.env.BENCH_DQ ?? 20);

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timedDq(pool: TestPool, cluster: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const r = await pool.run('dq', [String(cluster)]);
    ms.push(performance.now() - t0);
    if (r.code !== 0) throw new Error(`dq failed: ${r.stderr}`);
  }
  return ms;
}

async function main() {
  const pool = await TestPool.start();
  try {
    pool.file('idle.sub', 'executable = /bin/true\nrequirements = false\nqueue\n');
    pool.file('gated.sub', 'executable = /bin/sh\narguments = "-c \'while [ ! -e go ]; do sleep 0.1; done\'"\nqueue\n');
    const idle = await pool.submit('idle.sub');
    const gated = await pool.submit('gated.sub');
    await pool.waitFor('the gated job to run', async () =>
      (await pool.json('dq', [String(gated)])).some((a) => a.JobStatus === 2),
    );
    const free = await timedDq(pool, idle);

    const before = queueWriteFailures(pool);
    const holder = await holdQueueLock(pool);
    pool.file('go', '');
    await pool.waitFor('the schedd to find the queue locked', () => queueWriteFailures(pool) > before);
    const locked = await timedDq(pool, idle);
    const t0 = performance.now();
    const refused = await pool.run('dsubmit', ['idle.sub']);
    const submitMs = performance.now() - t0;
    await releaseQueueLock(holder);
    await pool.waitForHistory(gated, 1);

    const f = (xs: number[]) =>
      `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms, ${xs.filter((x) => x > 2000).length} over 2 s`;
    console.log(`dq x${N}, queue free:   ${f(free)}`);
    console.log(`dq x${N}, queue locked: ${f(locked)}`);
    console.log(
      `dsubmit while locked: exit ${refused.code} in ${submitMs.toFixed(0)} ms (${refused.stderr.trim().split('\n')[0]})`,
    );
  } finally {
    await pool.stop();
  }
}

await main();
