// A big queue on a real personal pool, run on demand:
//   node --import tsx bench/big-queue.ts [--jobs 1000000] [--ids 100000] [--json-jobs 10000] [--clients 50]
//                                        [--small 10000] [--mid 100000] [--piece 100000]
// (sizes as flags, full size by default; BENCH_JOBS, BENCH_JSON_JOBS, BENCH_CLIENTS still read). It prints:
//  - `queue --jobs` held jobs (nothing runs) in one submission (or in submissions of at most --piece jobs; if
//    the one submission is refused, in pieces of 100,000 after it): dsubmit's time, its and the schedd's CPU,
//    and the schedd's RSS per job over its empty size
//  - `dq -totals`, `dq -af ClusterId ProcId` (time, lines, peak RSS of the CLI and of the schedd), `drm` of
//    the cluster, then `dwait` and `dhistory` with --ids of its ids
//  - issue 11's rows: `dq -af ClusterId` over --small jobs, `drm` of them, `dq -totals` over --mid jobs
//  - --clients concurrent `dq -json` over --json-jobs jobs: the slowest and the median against one alone, and
//    how much longer a dsubmit takes meanwhile than alone
// --clients 0 leaves out the concurrent queries. Each CLI runs under /usr/bin/time (its user and system CPU and peak RSS). For before/after figures, run this
// file from a checkout of the older commit too (built), alternating on the same machine. Nothing is asserted.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

function flag(name: string, env: string | undefined, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 ? process.argv[i + 1] : (env ?? def));
}
const JOBS = flag('jobs', process.env.BENCH_JOBS, 1_000_000);
const IDS = Math.min(JOBS, flag('ids', undefined, 100_000));
const JSON_JOBS = flag('json-jobs', process.env.BENCH_JSON_JOBS, 10_000);
const CLIENTS = flag('clients', process.env.BENCH_CLIENTS, 50);
const SMALL = flag('small', undefined, 10_000);
const MID = flag('mid', undefined, 100_000);
const PIECE = flag('piece', undefined, JOBS);

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

/** VmRSS and VmHWM (peak) of a process, in kB. */
function memory(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s*(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far (/proc/PID/stat, 100 ticks a second). */
function cpuSec(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Start counting a process's peak RSS from now (Linux: clear_refs 5 resets VmHWM; needs root or the owner). */
function resetPeak(pid: number) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* the peak then counts from the process's start */
  }
}

interface Run {
  code: number;
  ms: number;
  stdoutBytes: number;
  lines: number;
  /** from /usr/bin/time: CPU seconds and peak RSS (kB) of the command */
  user: number;
  sys: number;
  peakKb: number;
  stderr: string;
  /** the first 4 kB of stdout */
  stdout: string;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const MARK = '@@time ';

/** Run a CLI, counting its output without keeping it. */
function cli(pool: TestPool, cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const argv = [join(DIST, 'cli', `${cmd}.js`), ...args];
    const child = TIME
      ? spawn(TIME, ['-f', `${MARK}%U %S %M`, process.execPath, ...argv], {
          cwd: pool.work,
          env: pool.env,
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, argv, { cwd: pool.work, env: pool.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    let lines = 0;
    let head = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (head.length < 4096) head += d.toString('utf8', 0, Math.min(d.length, 4096));
      bytes += d.length;
      for (const c of d) if (c === 10) lines++;
    });
    child.stderr.on('data', (d) => (stderr.length < 100_000 ? (stderr += d) : undefined));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const at = stderr.lastIndexOf(MARK);
      const [user, sys, peak] =
        at >= 0
          ? stderr
              .slice(at + MARK.length)
              .trim()
              .split(/\s+/)
              .map(Number)
          : [0, 0, 0];
      if (at >= 0) stderr = stderr.slice(0, at);
      // /usr/bin/time says "Command exited with non-zero status N" before its line
      stderr = stderr.replace(/Command exited with non-zero status \d+\n?$/, '');
      resolve({
        code: code ?? -1,
        ms,
        stdoutBytes: bytes,
        lines,
        user: user!,
        sys: sys!,
        peakKb: peak!,
        stderr,
        stdout: head,
      });
    });
    child.stdin.end(input ?? '');
  });
}

const cpu = (r: Run) => `${(r.user + r.sys).toFixed(2)} s CPU`;
const failure = (r: Run) =>
  r.code ? ` [exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300)}]` : '';

async function submitHeld(pool: TestPool, n: number): Promise<{ cluster: number; run: Run }> {
  const r = await cli(pool, 'dsubmit', ['-a', 'hold = true', '-'], `executable = /bin/true\nqueue ${n}\n`);
  if (r.code !== 0) throw new Error(`dsubmit failed: ${r.stderr}`);
  return { cluster: Number(/cluster (\d+)/.exec(r.stdout)?.[1]), run: r };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The median wall time of `n` runs (the machine is shared: one run says little). */
async function medianOf(n: number, f: () => Promise<Run>): Promise<{ ms: number; last: Run }> {
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) runs.push(await f());
  return { ms: median(runs.map((r) => r.ms)), last: runs[runs.length - 1]! };
}

/**
 * The schedd's RSS once it has settled: V8 gives back what a big request left only after a while of calm, so
 * the lowest RSS seen until it has not fallen for 10 s (at most 60 s).
 */
async function settledRss(pid: number): Promise<number> {
  let low = memory(pid).rss;
  let since = Date.now();
  const end = Date.now() + 60_000;
  while (Date.now() - since < 10_000 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    const now = memory(pid).rss;
    if (now < low - 1024) since = Date.now();
    low = Math.min(low, now);
  }
  return low;
}

/** The schedd's CPU seconds spent while `f` runs. */
async function scheddCpu<T>(pid: number, f: () => Promise<T>): Promise<{ r: T; cpu: string }> {
  const c0 = cpuSec(pid);
  const r = await f();
  return { r, cpu: `schedd ${(cpuSec(pid) - c0).toFixed(2)} s CPU` };
}

async function main() {
  console.log(
    `big-queue: ${JOBS} held jobs, ${IDS} ids, ${CLIENTS} × dq -json over ${JSON_JOBS}, issue 11 rows at ${SMALL} and ${MID}`,
  );
  const pool = await TestPool.start({ UPDATE_INTERVAL: '30', NEGOTIATOR_INTERVAL: '60' });
  try {
    const schedd = pool.daemonPid('schedd');
    const empty = await settledRss(schedd);
    console.log(`schedd empty: RSS ${mb(empty)}`);

    // 1. a big queue
    const big = { clusters: [] as number[], run: undefined as Run | undefined, ms: 0, cpu: 0 };
    let piece = PIECE;
    const submitCpu0 = cpuSec(schedd);
    for (let left = JOBS; left > 0;) {
      const n = Math.min(piece, left);
      const r = await submitHeld(pool, n).catch((e: Error) => e);
      if (r instanceof Error) {
        if (piece <= 100_000) throw r;
        console.log(
          `one submission of ${n} jobs refused: ${r.message.trim().split('\n')[0]!.slice(0, 300)}; in pieces of 100000 instead`,
        );
        piece = 100_000;
        continue;
      }
      big.clusters.push(r.cluster);
      big.ms += r.run.ms;
      big.cpu += r.run.user + r.run.sys;
      big.run = r.run;
      left -= n;
    }
    const submitCpu = cpuSec(schedd) - submitCpu0;
    const full = memory(schedd);
    const settled = await settledRss(schedd);
    console.log(
      `queue ${JOBS} held (${big.clusters.length} submission(s)): dsubmit ${big.ms.toFixed(0)} ms (${big.cpu.toFixed(2)} s CPU, CLI peak ${mb(big.run!.peakKb)}), schedd ${submitCpu.toFixed(2)} s CPU; schedd RSS ${mb(full.rss)} right after, ${mb(settled)} settled ` +
        `= ${(((settled - empty) * 1024) / JOBS).toFixed(0)} B per job over empty (goal ≤ 1024); schedd peak ${mb(full.peak)}`,
    );

    resetPeak(schedd);
    const { r: totals, cpu: totalsCpu } = await scheddCpu(schedd, () =>
      medianOf(3, () => cli(pool, 'dq', ['-totals'])),
    );
    console.log(
      `dq -totals at ${JOBS}: ${totals.ms.toFixed(0)} ms median of 3 (CLI ${cpu(totals.last)}, ${totalsCpu} for the 3, goal ≤ 200 ms)${failure(totals.last)}`,
    );
    resetPeak(schedd);
    const { r: af, cpu: afCpu } = await scheddCpu(schedd, () => cli(pool, 'dq', ['-af', 'ClusterId', 'ProcId']));
    console.log(
      `dq -af ClusterId ProcId: ${af.ms.toFixed(0)} ms (goal ≤ 10000), ${af.lines} lines, CLI ${cpu(af)}, ${afCpu}, CLI peak ${mb(af.peakKb)}, schedd peak ${mb(memory(schedd).peak)} (${mb(settled)} before)${failure(af)}`,
    );

    resetPeak(schedd);
    const { r: rm, cpu: rmCpu } = await scheddCpu(schedd, () => cli(pool, 'drm', big.clusters.map(String)));
    console.log(
      `drm ${big.clusters.join(' ')} (${JOBS} jobs): ${rm.ms.toFixed(0)} ms (goal ≤ 5000), ${rmCpu}, schedd peak ${mb(memory(schedd).peak)}${failure(rm)}`,
    );

    const ids = Array.from({ length: IDS }, (_, i) => `${big.clusters[Math.floor(i / piece)]}.${i % piece}`);
    const wait = await cli(pool, 'dwait', [...ids, '-wait', '120']);
    const removed = wait.stdout.length ? (await cli(pool, 'dwait', [...ids, '-wait', '120', '-quiet'])).code : -1;
    console.log(
      `dwait with ${IDS} ids: ${wait.ms.toFixed(0)} ms, ${wait.lines} lines (exit ${wait.code}: 1 = they were removed; quiet again: ${removed})${/too large|stack/i.test(wait.stderr) ? ` FAILED ${wait.stderr.slice(0, 200)}` : ''}`,
    );
    const hist = await cli(pool, 'dhistory', [...ids, '-af', 'ProcId', 'JobStatus']);
    console.log(`dhistory with ${IDS} ids: ${hist.ms.toFixed(0)} ms, ${hist.lines} lines${failure(hist)}`);

    // 2. issue 11's rows
    const small = await submitHeld(pool, SMALL);
    const ids10 = await medianOf(5, () => cli(pool, 'dq', ['-af', 'ClusterId']));
    console.log(
      `dq -af ClusterId over ${SMALL} jobs: ${ids10.ms.toFixed(0)} ms median of 5, ${ids10.last.lines} lines (${cpu(ids10.last)}, goal ≤ 100 ms)${failure(ids10.last)}`,
    );
    const { r: rmSmall, cpu: rmSmallCpu } = await scheddCpu(schedd, () => cli(pool, 'drm', [String(small.cluster)]));
    console.log(
      `drm of ${SMALL} jobs: ${rmSmall.ms.toFixed(0)} ms (CLI ${cpu(rmSmall)}, ${rmSmallCpu}, goal ≤ 500 ms)${failure(rmSmall)}`,
    );
    const mid = await submitHeld(pool, MID);
    const totalsMid = await medianOf(5, () => cli(pool, 'dq', ['-totals']));
    console.log(
      `dq -totals at ${MID}: ${totalsMid.ms.toFixed(0)} ms median of 5 (${cpu(totalsMid.last)}, goal ≤ 200 ms)${failure(totalsMid.last)}`,
    );
    await cli(pool, 'drm', [String(mid.cluster)]);

    // 3. concurrent dq -json, and a dsubmit meanwhile
    if (CLIENTS <= 0) return;
    await submitHeld(pool, JSON_JOBS);
    const { r: alone, cpu: aloneCpu } = await scheddCpu(schedd, () => cli(pool, 'dq', ['-json']));
    const submitAlone = await medianOf(3, () =>
      cli(pool, 'dsubmit', ['-a', 'hold = true', '-'], 'executable = /bin/true\nqueue\n'),
    );
    resetPeak(schedd);
    const c0 = cpuSec(schedd);
    const many = Array.from({ length: CLIENTS }, () => cli(pool, 'dq', ['-json']));
    const during = await cli(pool, 'dsubmit', ['-a', 'hold = true', '-'], 'executable = /bin/true\nqueue\n');
    const done = await Promise.all(many);
    const manyCpu = cpuSec(schedd) - c0;
    const times = done.map((r) => r.ms);
    const failed = done.filter((r) => r.code !== 0).length;
    console.log(
      `${CLIENTS} concurrent dq -json over ${JSON_JOBS} jobs (${(alone.stdoutBytes / 1e6).toFixed(1)} MB each): one alone ${alone.ms.toFixed(0)} ms (CLI ${cpu(alone)}, ${aloneCpu}); ` +
        `median ${median(times).toFixed(0)} ms, slowest ${Math.max(...times).toFixed(0)} ms = ${(Math.max(...times) / alone.ms).toFixed(1)}× alone (goal ≤ 3×), ${failed} failed; schedd ${manyCpu.toFixed(1)} s CPU for all, peak ${mb(memory(schedd).peak)}`,
    );
    console.log(
      `dsubmit of one job: alone ${submitAlone.ms.toFixed(0)} ms, during the ${CLIENTS} queries ${during.ms.toFixed(0)} ms: delayed ${(during.ms - submitAlone.ms).toFixed(0)} ms (goal ≤ 100)${failure(during)}`,
    );
  } finally {
    await pool.stop();
  }
}

await main();
