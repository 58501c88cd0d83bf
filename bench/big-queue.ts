// A big queue on a real personal pool (on demand: `node --import tsx bench/big-queue.ts`; sizes from the
// environment, BENCH_JOBS=200000 BENCH_JSON_JOBS=10000 BENCH_CLIENTS=50 by default):
//  - `queue BENCH_JOBS` held jobs (nothing runs): the schedd's RSS after
//  - `dq -totals`, and `dq -af ClusterId ProcId`: time, peak RSS of the CLI and of the schedd
//  - `drm` of the cluster
//  - BENCH_CLIENTS concurrent `dq -json` over BENCH_JSON_JOBS jobs: the slowest and the median against one
//    alone, and how long a dsubmit takes meanwhile against one alone
// Figures are printed; nothing is asserted.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 200_000);
const JSON_JOBS = Number(process.env.BENCH_JSON_JOBS ?? 10_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

/** VmRSS and VmHWM (peak) of a process, in kB. */
function memory(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s*(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
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
  peakKb: number;
  stderr: string;
  /** the first 4 kB of stdout */
  stdout: string;
}

/** Run a CLI, counting its output without keeping it, and sampling its peak RSS until it exits. */
function cli(pool: TestPool, cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], { cwd: pool.work, env: pool.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    let lines = 0;
    let head = '';
    let stderr = '';
    let peak = 0;
    const sample = setInterval(() => {
      try {
        peak = Math.max(peak, memory(child.pid!).peak);
      } catch {
        /* gone */
      }
    }, 20);
    child.stdout.on('data', (d: Buffer) => {
      if (head.length < 4096) head += d.toString('utf8', 0, Math.min(d.length, 4096));
      bytes += d.length;
      for (const c of d) if (c === 10) lines++;
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      resolve({ code: code ?? -1, ms: performance.now() - t0, stdoutBytes: bytes, lines, peakKb: peak, stderr, stdout: head });
    });
    child.stdin.end(input ?? '');
  });
}

async function submitHeld(pool: TestPool, n: number): Promise<{ cluster: number; ms: number }> {
  const r = await cli(pool, 'dsubmit', ['-a', 'hold = true', '-'], `executable = /bin/true\nqueue ${n}\n`);
  if (r.code !== 0) throw new Error(`dsubmit failed: ${r.stderr}`);
  return { cluster: Number(/cluster (\d+)/.exec(r.stdout)?.[1]), ms: r.ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const pool = await TestPool.start({ UPDATE_INTERVAL: '30', NEGOTIATOR_INTERVAL: '60' });
  try {
    const schedd = pool.daemonPid('schedd');
    console.log(`schedd at start: RSS ${mb(memory(schedd).rss)}`);

    // 1. a big queue
    const big = await submitHeld(pool, JOBS);
    console.log(`queue ${JOBS} held: dsubmit ${big.ms.toFixed(0)} ms; schedd RSS ${mb(memory(schedd).rss)} (peak so far ${mb(memory(schedd).peak)})`);

    // 2. dq -totals, dq -af ClusterId ProcId
    resetPeak(schedd);
    const totals = await cli(pool, 'dq', ['-totals']);
    console.log(`dq -totals: ${totals.ms.toFixed(0)} ms (exit ${totals.code}), CLI peak ${mb(totals.peakKb)}, schedd peak ${mb(memory(schedd).peak)}`);
    resetPeak(schedd);
    const af = await cli(pool, 'dq', ['-af', 'ClusterId', 'ProcId']);
    console.log(`dq -af ClusterId ProcId: ${af.ms.toFixed(0)} ms (exit ${af.code}), ${af.lines} lines, CLI peak ${mb(af.peakKb)}, schedd peak ${mb(memory(schedd).peak)}${af.code ? ` ${af.stderr}` : ''}`);
    resetPeak(schedd);
    const batch = await cli(pool, 'dq', []);
    console.log(`dq (batch view): ${batch.ms.toFixed(0)} ms (exit ${batch.code}), CLI peak ${mb(batch.peakKb)}, schedd peak ${mb(memory(schedd).peak)}`);

    // 3. drm of the cluster
    resetPeak(schedd);
    const rm = await cli(pool, 'drm', [String(big.cluster)]);
    console.log(`drm ${big.cluster} (${JOBS} jobs): ${rm.ms.toFixed(0)} ms (exit ${rm.code}), schedd peak ${mb(memory(schedd).peak)}${rm.code ? ` ${rm.stderr.slice(0, 300)}` : ''}`);

    // 4. concurrent dq -json, and a dsubmit meanwhile
    await submitHeld(pool, JSON_JOBS);
    const alone = await cli(pool, 'dq', ['-json']);
    const submitAlone = await cli(pool, 'dsubmit', ['-a', 'hold = true', '-'], 'executable = /bin/true\nqueue\n');
    resetPeak(schedd);
    const many = Array.from({ length: CLIENTS }, () => cli(pool, 'dq', ['-json']));
    const during = await cli(pool, 'dsubmit', ['-a', 'hold = true', '-'], 'executable = /bin/true\nqueue\n');
    const done = await Promise.all(many);
    const times = done.map((r) => r.ms);
    const failed = done.filter((r) => r.code !== 0).length;
    console.log(
      `${CLIENTS} concurrent dq -json over ${JSON_JOBS} jobs (${(alone.stdoutBytes / 1e6).toFixed(1)} MB each): one alone ${alone.ms.toFixed(0)} ms; ` +
        `median ${median(times).toFixed(0)} ms, slowest ${Math.max(...times).toFixed(0)} ms, ${failed} failed; schedd peak ${mb(memory(schedd).peak)}`,
    );
    console.log(`dsubmit of one job: alone ${submitAlone.ms.toFixed(0)} ms, during the ${CLIENTS} queries ${during.ms.toFixed(0)} ms`);

    // 5. the same from one process over gRPC (no CLI start-up or printing): what the schedd itself does
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
    const stream = async () => {
      const t0 = performance.now();
      let n = 0;
      for await (const page of client.queryPages({ ids: [], owners: [], constraint: '', projection: [], history: false, limit: 0 })) n += page.ads.length;
      return { ms: performance.now() - t0, n };
    };
    const one = await stream();
    const probe = async () => {
      const t0 = performance.now();
      await client.query({ ids: [], owners: [], constraint: '', projection: [], history: false, limit: 0, counts_only: true });
      return performance.now() - t0;
    };
    const probeAlone = await probe();
    const streams = Array.from({ length: CLIENTS }, () => stream());
    const probes: number[] = [];
    let settled = false;
    const all = Promise.all(streams).finally(() => (settled = true));
    while (!settled) probes.push(await probe());
    const rs = await all;
    console.log(
      `${CLIENTS} concurrent QueryJobs streams over gRPC (${one.n} ads each): one alone ${one.ms.toFixed(0)} ms; median ${median(rs.map((r) => r.ms)).toFixed(0)} ms, slowest ${Math.max(...rs.map((r) => r.ms)).toFixed(0)} ms; ` +
        `a counts query meanwhile: alone ${probeAlone.toFixed(0)} ms, ${probes.length} answered during them, median ${median(probes).toFixed(0)} ms, slowest ${Math.max(...probes).toFixed(0)} ms`,
    );
    client.close();
  } finally {
    await pool.stop();
  }
}

await main();
