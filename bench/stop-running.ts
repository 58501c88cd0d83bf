// `dsched stop` of a pool with running jobs (run on demand: `node --import tsx bench/stop-running.ts`):
// STOP_JOBS (32) jobs run on as many slots, then `dsched stop` and `dsched start` again, STOP_ROUNDS (3) times
// for each of STOP_CASES (ok,down,hung): the schedd serving; the schedd dead while the startd stops (stopped
// before the stop, killed once the master is stopping, so it is not restarted); the schedd hung (SIGSTOP) through
// the whole stop. Printed for each: how long `dsched stop` took, whether it found daemons its master left, and
// the events the jobs' user log has so far (004 evicted, 022 disconnected, 024 reconnect failed). Nothing is
// asserted: a stop is bounded by the master's grace (20 s), a hung schedd killed at its end.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { alive, sleep, TestPool } from '../test/integration/harness/pool.js';

const N = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const JOBS = N('STOP_JOBS', 32);
const ROUNDS = N('STOP_ROUNDS', 3);
const CASES = (process.env.STOP_CASES ?? 'ok,down,hung').split(',');

const pool = await TestPool.start({ NUM_CPUS: String(JOBS), MEMORY: String(JOBS * 256), JOB_LEASE_DURATION: '300' });
try {
  pool.file('job.sh', '#!/bin/sh\nsleep 3600\n', 0o755);
  const cluster = await pool.submit(
    pool.file('stop.sub', `executable = job.sh\nlog = stop.log\nrequest_memory = 16\nqueue ${JOBS}\n`),
  );
  const running = async () => (await pool.json('dq', [String(cluster)])).filter((a) => a.JobStatus === 2).length;
  console.log(`dsched stop with running jobs: ${JOBS} jobs, ${ROUNDS} rounds of ${CASES.join(', ')}`);
  for (const c of CASES)
    for (let round = 1; round <= ROUNDS; round++) {
      while ((await running()) < JOBS) await sleep(300);
      const schedd = pool.daemonPid('schedd');
      const negotiator = pool.daemonPid('negotiator');
      if (c !== 'ok') process.kill(schedd, 'SIGSTOP');
      const load = loadavg()[0]!.toFixed(1);
      const t0 = Date.now();
      const stop = pool.run('dsched', ['stop'], { timeoutMs: 120_000 });
      if (c === 'down') {
        // the negotiator is gone once the master is stopping: it restarts nothing now
        while (alive(negotiator)) await sleep(20);
        process.kill(schedd, 'SIGKILL');
      }
      const r = await stop;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      const log = readFileSync(join(pool.work, 'stop.log'), 'utf8');
      const count = (code: string) => (log.match(new RegExp(`^${code} `, 'gm')) ?? []).length;
      console.log(
        `${c} ${round}: dsched stop ${r.code} in ${secs} s (load ${load})` +
          `${/left by a master/.test(r.stdout) ? ', daemons left by its master' : ''}; ` +
          `user log so far: 004 ${count('004')}, 022 ${count('022')}, 024 ${count('024')}`,
      );
      if (alive(schedd)) process.kill(schedd, 'SIGKILL');
      const start = await pool.run('dsched', ['start'], { timeoutMs: 300_000 });
      if (start.code !== 0) throw new Error(`dsched start: ${start.stderr}`);
    }
} finally {
  await pool.stop();
}
