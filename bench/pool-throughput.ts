// Pool benchmarks on a real personal pool (run on demand: `node --import tsx bench/pool-throughput.ts`):
//  - submit rate: one `queue 10000` submission into the queue (jobs/s), held so nothing runs meanwhile
//  - end-to-end throughput: 1000 /bin/true jobs on 128 slots, submit to all completed (jobs/s), with the CPU
//    time each daemon (and the spawner, and the jobs themselves) spent per job: on a machine shared with
//    other work the wall clock varies from run to run, the CPU time per job much less
//  - submit-to-start latency on an idle pool: from before NewCluster, and from the Submit reply (what the
//    schedd → negotiator → claim → activation chain costs, without any command's start-up)
//  - 100 chained submissions (each `PbsDepend = afterok` on the one before) over gRPC: the schedd's share of
//    `dsubmit -W depend=afterok:ID` (bench/commands.ts times the whole commands)
// Figures are printed; nothing is asserted (see the issue for the targets). BENCH_SUBMIT, BENCH_E2E,
// BENCH_LATENCY, BENCH_CHAIN set the sizes; BENCH_CPU_PROF=DIR writes a CPU profile of every daemon there
// (node --cpu-prof, one file per daemon when the pool stops); BENCH_DAEMON_NODE_ARGS adds node flags to every
// daemon (after their own, e.g. `--max-semi-space-size=8`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expandSubmit, loadSubmit } from '../grammar/submit/index.js';
import { CollectorClient } from '../lib/rpc/clients/collector.js';
import { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';

const N_SUBMIT = Number(process.env.BENCH_SUBMIT ?? 10_000);
const N_E2E = Number(process.env.BENCH_E2E ?? 1000);
const N_LAT = Number(process.env.BENCH_LATENCY ?? 30);
const N_CHAIN = Number(process.env.BENCH_CHAIN ?? 100);
const PROFILE = process.env.BENCH_CPU_PROF;
const DAEMONS = ['collector', 'negotiator', 'schedd', 'startd'] as const;
/** Daemons counted when the pool runs them (the master has no address file: found as the startd's parent). */
const OPTIONAL = ['web'] as const;

function pct(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** CPU time (ms, user + system) of a process; with `children`, also of its children it has reaped. */
function cpuMs(pid: number, children = false): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU time so far of each daemon, of the startd's spawner, and of the jobs the spawner reaped. */
function poolCpu(pool: TestPool): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of DAEMONS) out[d] = cpuMs(pool.daemonPid(d));
  for (const d of OPTIONAL)
    try {
      out[d] = cpuMs(pool.daemonPid(d));
    } catch {
      /* not in DAEMON_LIST */
    }
  const master = Number(
    readFileSync(`/proc/${pool.daemonPid('startd')}/stat`, 'utf8')
      .split(') ')[1]!
      .split(' ')[1],
  );
  out.master = cpuMs(master);
  // the startd's child is the spawner's keeper (a subreaper that only waits); the spawner is the keeper's child
  const child = (pid: number) =>
    Number(
      execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    );
  const keeper = child(pool.daemonPid('startd'));
  const spawner = child(keeper);
  out.keeper = cpuMs(keeper);
  out.spawner = cpuMs(spawner);
  out.jobs = cpuMs(spawner, true) - out.spawner;
  return out;
}

async function main() {
  const pool = TestPool.create({ NUM_CPUS: '128', MEMORY: '262144', UPDATE_INTERVAL: '5', NEGOTIATOR_INTERVAL: '10' });
  const nodeArgs = [process.env.BENCH_DAEMON_NODE_ARGS ?? '', PROFILE ? `--cpu-prof --cpu-prof-dir=${PROFILE}` : '']
    .join(' ')
    .trim();
  const started = await pool.run('dsched', ['start'], {
    env: nodeArgs ? { DSCHED_DAEMON_NODE_ARGS: nodeArgs } : {},
  });
  if (started.code !== 0) throw new Error(`dsched start failed: ${started.stderr}`);
  try {
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    const plan = (text: string) =>
      loadSubmit({
        file: 'bench.sub',
        text,
        cwd: pool.work,
        env: {},
        owner: 'nobody',
        hostname: hostname(),
        maxProcs: 1_000_000,
      }); // this host: no file transfer, as dsubmit here
    const submit = async (text: string) => {
      const { cluster } = await schedd.newCluster();
      const { jobs } = expandSubmit(plan(text), Number(cluster));
      await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
      return Number(cluster);
    };
    /** The bench user's jobs in the queue: a count the schedd keeps, so asking often costs it nothing. */
    const queued = async () => {
      for await (const page of schedd.queryPages({
        ids: [],
        owners: ['nobody'],
        constraint: '',
        projection: [],
        history: false,
        limit: 0,
        counts_only: true,
      }))
        if (page.last && page.matched) return page.matched.total;
      return -1;
    };

    // 1. submit rate (held jobs: the queue write is what is measured)
    if (N_SUBMIT > 0) {
      const p = plan(`executable = /bin/true\nhold = true\nqueue ${N_SUBMIT}\n`);
      const t0 = performance.now();
      const { cluster } = await schedd.newCluster();
      const { jobs } = expandSubmit(p, Number(cluster));
      const t1 = performance.now();
      await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
      const t2 = performance.now();
      console.log(
        `submit: queue ${N_SUBMIT} — expand ${(t1 - t0).toFixed(0)} ms, Submit RPC + commit ${(t2 - t1).toFixed(0)} ms → ${Math.round(N_SUBMIT / ((t2 - t0) / 1000))} jobs/s into the queue (${Math.round(N_SUBMIT / ((t2 - t1) / 1000))} jobs/s for the RPC + transaction alone)`,
      );
      const cli0 = performance.now();
      execFileSync(process.execPath, [join(DIST, 'cli', 'dsubmit.js'), '-a', 'hold = true', '-'], {
        input: `executable = /bin/true\nqueue ${N_SUBMIT}\n`,
        env: pool.env,
        cwd: pool.work,
      });
      const cli1 = performance.now();
      console.log(
        `submit: dsubmit CLI, queue ${N_SUBMIT}, whole command — ${(cli1 - cli0).toFixed(0)} ms → ${Math.round(N_SUBMIT / ((cli1 - cli0) / 1000))} jobs/s`,
      );
      await schedd.act({
        action: 'remove',
        ids: [],
        owners: [],
        constraint: 'JobStatus == 5',
        all: true,
        reason: 'bench',
      });
      for (const deadline = Date.now() + 120_000; (await queued()) > 0 && Date.now() < deadline;) await sleep(100);
    }

    // 2. end-to-end throughput, and what it cost each process
    {
      const collector = new CollectorClient(pool.daemonAddress('collector'), pool.creds(pool.token('nobody')));
      /** The calls the schedd has served, by method (its Scheduler ad, sent after every change of the queue). */
      const scheddCalls = async () => {
        const [ad] = await collector.query('Scheduler');
        const out: Record<string, number> = {};
        for (const [k, v] of Object.entries(ad ?? {})) if (/^Rpc\w+Count$/.test(k)) out[k.slice(3, -5)] = Number(v);
        out.commits = Number(ad?.QueueCommits ?? 0);
        out.commitMs = Number(ad?.QueueCommitSecondsTotal ?? 0) * 1000;
        out.queryMs = Number(ad?.RpcQueryJobsSecondsTotal ?? 0) * 1000;
        return out;
      };
      // BENCH_AD_WATCH=1: the ad changes the collector sends its watchers, by type (one more watcher: the
      // collector's CPU per job then counts it too)
      const adChanges = new Map<string, number>();
      const adWatch = process.env.BENCH_AD_WATCH ? collector.watch(['Machine', 'Submitter', 'Scheduler']) : undefined;
      adWatch?.on('data', (ch: { type: string; kind: string }) => {
        if (ch.kind !== 'hello') adChanges.set(ch.type, (adChanges.get(ch.type) ?? 0) + 1);
      });
      adWatch?.on('error', () => {});
      await sleep(adWatch ? 1000 : 0); // the current ads first
      adChanges.clear();
      const calls0 = await scheddCalls();
      const cpu0 = poolCpu(pool);
      const t0 = performance.now();
      const cluster = await submit(`executable = /bin/true\nqueue ${N_E2E}\n`);
      const deadline = Date.now() + 600_000;
      for (;;) {
        const left = await queued();
        if (left === 0) break;
        if (Date.now() > deadline) throw new Error(`${left} jobs still queued after 10 minutes`);
        await sleep(50); // a count the schedd keeps; asked less often, it adds less to the CPU measured
      }
      const t1 = performance.now();
      const cpu1 = poolCpu(pool);
      const changes = [...adChanges].map(([t, n]) => `${t} ${(n / N_E2E).toFixed(3)}`);
      adWatch?.cancel();
      await sleep(500); // the Scheduler ad after the last change, before the history is asked for below
      const calls1 = await scheddCalls();
      const hist = await schedd.query({
        ids: [{ cluster, proc: -1 }],
        owners: [],
        constraint: 'ExitCode == 0',
        projection: ['ProcId'],
        history: true,
        limit: 0,
      });
      const runs = await schedd.query({
        ids: [{ cluster, proc: -1 }],
        owners: [],
        constraint: 'NumJobStarts != 1',
        projection: ['ProcId'],
        history: true,
        limit: 0,
      });
      console.log(
        `end-to-end: ${N_E2E} × /bin/true in one submission on 128 slots — ${(t1 - t0).toFixed(0)} ms → ${Math.round(N_E2E / ((t1 - t0) / 1000))} jobs/s (${hist.length} completed with exit 0, ${runs.length} started other than once)`,
      );
      const per = Object.keys(cpu1).map((k) => `${k} ${((cpu1[k]! - cpu0[k]!) / N_E2E).toFixed(2)}`);
      const total = Object.keys(cpu1).reduce((n, k) => n + cpu1[k]! - cpu0[k]!, 0) / N_E2E;
      console.log(
        `end-to-end: CPU ms per job — ${per.join(', ')}; all ${total.toFixed(2)} (2 cores: at most ${Math.round(2000 / total)} jobs/s)`,
      );
      // the runner's own count queries (every 50 ms: more per job in a slower run) are the schedd's CPU too
      const polled = (cpu1.schedd! - cpu0.schedd! - (calls1.queryMs! - calls0.queryMs!)) / N_E2E;
      console.log(`end-to-end: schedd CPU ms per job without the runner's QueryJobs — ${polled.toFixed(2)}`);
      const served = Object.keys(calls1)
        .filter((m) => !['commits', 'commitMs', 'queryMs'].includes(m) && calls1[m]! > (calls0[m] ?? 0))
        .map((m) => `${m} ${((calls1[m]! - (calls0[m] ?? 0)) / N_E2E).toFixed(3)}`);
      if (adWatch) console.log(`end-to-end: ad changes the collector's watchers got per job — ${changes.join(', ')}`);
      console.log(
        `end-to-end: calls the schedd served per job — ${served.join(', ')}; queue commits per job ${((calls1.commits! - calls0.commits!) / N_E2E).toFixed(3)}, ${((calls1.commitMs! - calls0.commitMs!) / N_E2E).toFixed(2)} ms each job`,
      );
      collector.close();
    }

    // 3. submit-to-start latency on an idle pool
    if (N_LAT > 0) {
      const fromStart: number[] = [];
      const fromReply: number[] = [];
      for (let i = 0; i < N_LAT; i++) {
        const out = join(pool.work, `lat${i}.txt`);
        const p = plan(`executable = /bin/date\narguments = +%s.%N\noutput = ${out}\nqueue\n`);
        await sleep(300); // idle pool: previous claim released, nothing in flight
        const wall0 = Date.now(); // the job prints its start on the wall clock (date +%s.%N)
        const { cluster } = await schedd.newCluster();
        const { jobs } = expandSubmit(p, Number(cluster));
        await schedd.submit(Number(cluster), jobs.cluster, jobs.procs);
        const replied = Date.now();
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
        fromStart.push(started - wall0);
        fromReply.push(started - replied);
      }
      console.log(
        `latency: submit-to-start on an idle pool over ${N_LAT} jobs — median ${pct(fromStart, 50).toFixed(1)} ms, p95 ${pct(fromStart, 95).toFixed(1)} ms; from the Submit reply: median ${pct(fromReply, 50).toFixed(1)} ms, p95 ${pct(fromReply, 95).toFixed(1)} ms`,
      );
    }

    // 4. chained submissions over gRPC (the schedd's share of `dsubmit -W depend=afterok:ID`)
    if (N_CHAIN > 0) {
      const t0 = performance.now();
      let prev = await submit('executable = /bin/true\nhold = true\nqueue\n');
      for (let i = 1; i < N_CHAIN; i++)
        prev = await submit(`executable = /bin/true\n+PbsDepend = "afterok:${prev}"\nqueue\n`);
      const t = performance.now() - t0;
      console.log(
        `chain: ${N_CHAIN} submissions each depending on the one before (afterok), over gRPC — ${t.toFixed(0)} ms (${(t / N_CHAIN).toFixed(1)} ms each: NewCluster + Submit)`,
      );
      await schedd.act({ action: 'remove', ids: [], owners: [], constraint: '', all: true, reason: 'bench' });
    }
    schedd.close();
  } finally {
    await pool.stop();
  }
}

await main();
