// A pool restarted while its jobs run (run on demand: `node --import tsx bench/restart-running.ts`): RESTART_JOBS
// (32) jobs run on as many slots, then `dsched stop; dsched start`, RESTART_ROUNDS (3) times, each with a fresh
// cluster. Printed for each round: how long `dsched stop` and `dsched start` took, and from the start's end until
// every job of the round runs again (a new start of its process, or one that reconnected: running again without
// a new start). At the end, the counts that must be right: runs to completion twice, terminate events (005) per
// job, the evictions (004, what `dsched stop` leaves) and the disconnect events (022 disconnected, 023
// reconnected, 024 reconnect failed: the job runs again). The job lease is RESTART_LEASE (300) seconds: a round
// that waited for it would show. Nothing is asserted.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { sleep, TestPool } from '../test/integration/harness/pool.js';

const N = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const JOBS = N('RESTART_JOBS', 32);
const ROUNDS = N('RESTART_ROUNDS', 3);
const LEASE = N('RESTART_LEASE', 300);
/** a job's run: long enough to outlast a restart */
const RUN_SECONDS = 40;

const pool = await TestPool.start({
  NUM_CPUS: String(JOBS),
  MEMORY: String(JOBS * 256),
  JOB_LEASE_DURATION: String(LEASE),
});
try {
  // each run of a job appends its id to starts.txt, and once it ends well to done.txt
  pool.file('job.sh', '#!/bin/sh\necho "$1" >> starts.txt\nsleep "$2"\necho "$1" >> done.txt\n', 0o755);
  const lines = (name: string) => {
    const p = join(pool.work, name);
    return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean) : [];
  };
  const running = async (cluster: number) =>
    (await pool.json('dq', [String(cluster)])).filter((a) => a.JobStatus === 2).length;
  const clusters: number[] = [];
  console.log(
    `restart with running jobs: ${JOBS} jobs, ${ROUNDS} rounds, lease ${LEASE} s, load ${loadavg()[0]!.toFixed(1)}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const sub = pool.file(
      `round${round}.sub`,
      `executable = job.sh\narguments = $(Cluster).$(Process) ${RUN_SECONDS}\nlog = round.log\nrequest_memory = 16\nqueue ${JOBS}\n`,
    );
    const cluster = await pool.submit(sub);
    clusters.push(cluster);
    const ofCluster = () => lines('starts.txt').filter((l) => l.startsWith(`${cluster}.`)).length;
    while ((await running(cluster)) < JOBS || ofCluster() < JOBS) await sleep(200);
    const s0 = Date.now();
    const stop = await pool.run('dsched', ['stop'], { timeoutMs: 120_000 });
    const t0 = Date.now();
    const start = await pool.run('dsched', ['start'], { timeoutMs: 300_000 });
    const t1 = Date.now();
    // every job runs again: a new start line, or running without one (reconnected)
    const reconnectedLog = () => (readFileSync(join(pool.work, 'round.log'), 'utf8').match(/^023 /gm) ?? []).length;
    const reconnectedBefore = reconnectedLog();
    const again = () => ofCluster() - JOBS + (reconnectedLog() - reconnectedBefore);
    while (again() < JOBS && Date.now() - t1 < 600_000) await sleep(50);
    console.log(
      `round ${round + 1}: dsched stop ${stop.code} in ${((t0 - s0) / 1000).toFixed(1)} s, dsched start ${start.code} in ${((t1 - t0) / 1000).toFixed(1)} s; ` +
        `from its end until ${again() < JOBS ? `only ${again()} of ${JOBS} ran again (gave up after 600 s)` : `all ${JOBS} run again`} ${((Date.now() - t1) / 1000).toFixed(1)} s ` +
        `(${ofCluster() - JOBS} started again, ${reconnectedLog() - reconnectedBefore} reconnected)`,
    );
  }
  for (const c of clusters) await pool.waitForHistory(c, JOBS, 600_000);
  const done = lines('done.txt');
  const log = readFileSync(join(pool.work, 'round.log'), 'utf8');
  const terminated = [...log.matchAll(/^005 \((\d+)\.(\d+)\.\d+\)/gm)].map((m) => `${m[1]}.${Number(m[2])}`);
  const count = (code: string) => (log.match(new RegExp(`^${code} `, 'gm')) ?? []).length;
  console.log(
    `completed ${new Set(done).size} of ${JOBS * ROUNDS}, twice ${done.length - new Set(done).size}; ` +
      `terminate events ${terminated.length} for ${new Set(terminated).size} jobs; ` +
      `004 evicted ${count('004')}, 022 disconnected ${count('022')}, 023 reconnected ${count('023')}, ` +
      `024 reconnect failed ${count('024')}`,
  );
} finally {
  await pool.stop();
}
