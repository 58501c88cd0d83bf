// Where submit → start goes inside the daemons, on an idle pool (run on demand:
// `node --import tsx bench/submit-latency.ts`; BENCH_LATENCY sets the number of jobs, 30 by default).
// Each job is one `/bin/date +%s.%N` submitted over gRPC (no command's start-up); the daemons log at debug
// level and their lines' times (ms) split the path into:
//   reply → cycle     the Submit reply to the start of the negotiation cycle that matched the job (the schedd's
//                     Submitter ad, the collector, the negotiator's watch stream and its wake-up); the first
//                     cycle with a match that ends after the reply (the pool is idle before each job)
//   fetch, match      the cycle's GetIdleAutoclusters and matching
//   Matched → claimed the schedd's claim (recorded with an fsync first) reaching the startd, from the moment
//                     the negotiator sends Matched (the cycle's start + fetch + match)
//   → spawned         the startd starting the job, until it hears from the spawner that the process exists
//   → running         the job's first instruction (its own clock, from `date`; before the startd hears of it)
// The rows add up to "reply → job" (its median and p95 are printed too). Nothing is asserted.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expandSubmit, loadSubmit } from '../grammar/submit/index.js';
import { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { sleep, TestPool } from '../test/integration/harness/pool.js';

const N = Number(process.env.BENCH_LATENCY ?? 30);

function pct(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

type Line = {
  time: string;
  msg: string;
  cluster?: number;
  proc?: number;
  durationMs?: number;
  fetchMs?: number;
  matchMs?: number;
};

function last(ls: Line[], pred: (l: Line) => boolean): Line | undefined {
  for (let i = ls.length - 1; i >= 0; i--) if (pred(ls[i]!)) return ls[i];
  return undefined;
}

function lines(pool: TestPool, daemon: string): Line[] {
  return readFileSync(join(pool.home, 'log', `${daemon}.log`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

async function main() {
  const pool = TestPool.create({ NUM_CPUS: '8', MEMORY: '16384' });
  const started = await pool.run('dsched', ['start'], { env: { DSCHED_LOG_LEVEL: 'debug' } });
  if (started.code !== 0) throw new Error(`dsched start failed: ${started.stderr}`);
  try {
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    const jobs: Array<{ cluster: number; replied: number; running: number }> = [];
    for (let i = 0; i < N + 1; i++) {
      const out = join(pool.work, `lat${i}.txt`);
      const p = loadSubmit({
        file: 'bench.sub',
        text: `executable = /bin/date\narguments = +%s.%N\noutput = ${out}\nqueue\n`,
        cwd: pool.work,
        env: {},
        owner: 'nobody',
        hostname: hostname(),
      });
      await sleep(300); // idle pool: the previous claim released, nothing in flight
      const { cluster } = await schedd.newCluster();
      const { jobs: j } = expandSubmit(p, Number(cluster));
      await schedd.submit(Number(cluster), j.cluster, j.procs);
      const replied = Date.now();
      let running = 0;
      for (const deadline = Date.now() + 30_000; !running && Date.now() < deadline;) {
        try {
          running = Number(readFileSync(out, 'utf8').trim()) * 1000 || 0;
        } catch {
          /* not yet */
        }
        if (!running) await sleep(2);
      }
      if (i > 0) jobs.push({ cluster: Number(cluster), replied, running }); // the first warms the pool up
    }
    schedd.close();
    await sleep(500); // the last lines written
    const at = (l: Line | undefined) => (l ? Date.parse(l.time) : NaN);
    const cycles = lines(pool, 'negotiator').filter((l) => l.msg === 'negotiation cycle');
    const startd = lines(pool, 'startd');
    const rows: Record<string, number[]> = {
      'reply → cycle': [],
      fetch: [],
      match: [],
      'Matched → claimed': [],
      '→ spawned': [],
      '→ running': [],
      'reply → job': [],
    };
    for (const j of jobs) {
      // the job's cycle, and the claim and start of it
      const spawned = startd.find((l) => l.msg === 'job started' && l.cluster === j.cluster);
      const claimed = last(startd, (l) => l.msg === 'claimed' && at(l) <= at(spawned));
      const cycle = cycles.find((l) => at(l) >= j.replied);
      if (!spawned || !claimed || !cycle) continue;
      const cycleStart = at(cycle) - (cycle.durationMs ?? 0);
      const matchedSent = cycleStart + (cycle.fetchMs ?? 0) + (cycle.matchMs ?? 0);
      rows['reply → cycle']!.push(cycleStart - j.replied);
      rows.fetch!.push(cycle.fetchMs ?? NaN);
      rows.match!.push(cycle.matchMs ?? NaN);
      rows['Matched → claimed']!.push(at(claimed) - matchedSent);
      rows['→ spawned']!.push(at(spawned) - at(claimed));
      rows['→ running']!.push(j.running - at(spawned));
      rows['reply → job']!.push(j.running - j.replied);
    }
    console.log(`latency inside the daemons, idle pool, ${rows.fetch!.length} of ${N} jobs (ms, log times):`);
    for (const [k, xs] of Object.entries(rows))
      if (xs.length)
        console.log(
          `  ${k.padEnd(18)} median ${pct(xs, 50).toFixed(1).padStart(6)}   p95 ${pct(xs, 95).toFixed(1).padStart(6)}`,
        );
  } finally {
    await pool.stop();
  }
}

await main();
