// Pool benchmarks on a real personal pool (run on demand: `node --import tsx bench/pool-throughput.ts`):
//  - submit rate: one `queue 10000` submission into the queue (jobs/s), held so nothing runs meanwhile
//  - end-to-end throughput: 1000 /bin/true jobs on 128 slots, submit to all completed (jobs/s)
//  - submit-to-start latency on an idle pool: median and p95 over 30 single-job submissions
// Figures are printed; nothing is asserted (see the issue for the targets).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expandSubmit, loadSubmit } from '../grammar/submit/index.js';
import { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';

const N_SUBMIT = Number(process.env.BENCH_SUBMIT ?? 10_000);
const N_E2E = Number(process.env.BENCH_E2E ?? 1000);
const N_LAT = Number(process.env.BENCH_LATENCY ?? 30);

function pct(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main() {
  const pool = await TestPool.start({ NUM_CPUS: '128', MEMORY: '262144', UPDATE_INTERVAL: '5', NEGOTIATOR_INTERVAL: '10' });
  try {
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('bench')));
    const plan = (text: string) =>
      loadSubmit({ file: 'bench.sub', text, cwd: pool.work, env: {}, owner: 'bench', hostname: hostname(), maxProcs: 1_000_000 }); // this host: no file transfer, as dsubmit here

    // 1. submit rate (held jobs: the queue write is what is measured)
    {
      const p = plan(`executable = /bin/true\nhold = true\nqueue ${N_SUBMIT}\n`);
      const t0 = performance.now();
      const { cluster } = await schedd.newCluster();
      const { jobs } = expandSubmit(p, Number(cluster));
      const t1 = performance.now();
      await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
      const t2 = performance.now();
      console.log(`submit: queue ${N_SUBMIT} — expand ${(t1 - t0).toFixed(0)} ms, Submit RPC + commit ${(t2 - t1).toFixed(0)} ms → ${Math.round(N_SUBMIT / ((t2 - t0) / 1000))} jobs/s into the queue (${Math.round(N_SUBMIT / ((t2 - t1) / 1000))} jobs/s for the RPC + transaction alone)`);
      const cli0 = performance.now();
      execFileSync(process.execPath, [join(DIST, 'cli', 'dsubmit.js'), '-a', 'hold = true', '-'], {
        input: `executable = /bin/true\nqueue ${N_SUBMIT}\n`,
        env: pool.env,
        cwd: pool.work,
      });
      const cli1 = performance.now();
      console.log(`submit: dsubmit CLI, queue ${N_SUBMIT}, whole command — ${(cli1 - cli0).toFixed(0)} ms → ${Math.round(N_SUBMIT / ((cli1 - cli0) / 1000))} jobs/s`);
      await schedd.act({ action: 'remove', ids: [], owners: [], constraint: 'JobStatus == 5', all: true, reason: 'bench' });
    }

    // 2. end-to-end throughput
    {
      const p = plan(`executable = /bin/true\nqueue ${N_E2E}\n`);
      const t0 = performance.now();
      const { cluster } = await schedd.newCluster();
      const { jobs } = expandSubmit(p, Number(cluster));
      await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
      const deadline = Date.now() + 600_000;
      for (;;) {
        const left = await schedd.query({ ids: [{ cluster: Number(cluster), proc: -1 }], owners: [], constraint: '', projection: ['ProcId'], history: false, limit: 0 });
        if (left.length === 0) break;
        if (Date.now() > deadline) throw new Error(`${left.length} jobs still queued after 10 minutes`);
        await sleep(20);
      }
      const t1 = performance.now();
      const hist = await schedd.query({ ids: [{ cluster: Number(cluster), proc: -1 }], owners: [], constraint: 'ExitCode == 0', projection: ['ProcId'], history: true, limit: 0 });
      console.log(`end-to-end: ${N_E2E} /bin/true jobs on 128 slots — ${(t1 - t0).toFixed(0)} ms → ${Math.round(N_E2E / ((t1 - t0) / 1000))} jobs/s (${hist.length} completed with exit 0)`);
    }

    // 3. submit-to-start latency on an idle pool
    {
      const lat: number[] = [];
      for (let i = 0; i < N_LAT; i++) {
        const out = join(pool.work, `lat${i}.txt`);
        const p = plan(`executable = /bin/date\narguments = +%s.%N\noutput = ${out}\nqueue\n`);
        await sleep(300); // idle pool: previous claim released, nothing in flight
        const wall0 = Date.now(); // the job prints its start on the wall clock (date +%s.%N)
        const { cluster } = await schedd.newCluster();
        const { jobs } = expandSubmit(p, Number(cluster));
        await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
        const deadline = Date.now() + 30_000;
        let started = 0;
        while (!started && Date.now() < deadline) {
          try {
            const text = readFileSync(out, 'utf8').trim();
            if (text) started = Number(text) * 1000;
          } catch {
            /* not yet */
          }
          if (!started) await sleep(2);
        }
        lat.push(started - wall0);
      }
      console.log(`latency: submit-to-start on an idle pool over ${N_LAT} jobs — median ${pct(lat, 50).toFixed(1)} ms, p95 ${pct(lat, 95).toFixed(1)} ms`);
    }
    schedd.close();
  } finally {
    await pool.stop();
  }
}

await main();
