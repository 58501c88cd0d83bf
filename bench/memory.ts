// Memory of the daemons of an execute host (`node dist/...`), the performance issue's two rows: the execute
// host's processes (master, startd, spawner and its keeper) idle, and what each running job adds across all
// daemons (RSS, as the issue measured them; slurmd + munged beside them when they run here), each daemon's
// share below, and what an idle node process takes (the floor of any daemon written for node). The execute
// host is a home of its own (DAEMON_LIST = STARTD, in the pool of a central home running the collector,
// negotiator and schedd), as on a real pool, so its master is the native one unless told otherwise. Run on demand with
// `node --import tsx bench/memory.ts` (or `npm run bench memory`); nothing is asserted.
// BENCH_JOBS (128): sleeping jobs for the per-job figure, on a startd with that many cpus.
// BENCH_JOBS_LOW (32): jobs started first, measured, before the rest up to BENCH_JOBS. The issue's row divides all
// that BENCH_JOBS running jobs add by their number, one-time costs included (code V8 compiles for the job path
// the first time a job runs, about 1 MB a daemon); the slope between the two counts is what each further job
// adds. 0 skips the first step (and the slope).
// BENCH_MASTERS (native): `native,node` measures both masters, alternating, in BENCH_ROUNDS (1) rounds each.
// Each figure is each daemon's median over BENCH_WINDOW_S (30) seconds, sampled every 2 s once the pool has run
// BENCH_SETTLE_S (30) seconds idle, then as long with all the jobs running: not the moment the jobs started,
// when every heap still held the garbage of their start.
// RSS counts the node binary's shared pages in every process (about 35 MB each); "private" is what a process
// has to itself, and "host" is the pages the processes take together (their private pages, the shared ones once).
// Each daemon's figure per running job is also split by mapping (/proc/PID/smaps): "malloc" is glibc's main
// arena ([heap]: native memory of the main thread: SQLite, OpenSSL, nghttp2, node's own), "anon" the anonymous
// mappings (V8's heap, and the arenas and stacks of other threads), "binary" the pages of the node binary.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';

export interface Memory {
  rss: number;
  private: number;
  shared: number;
  /** RSS by mapping, when asked for: glibc's main arena, anonymous mappings, the node binary */
  malloc?: number;
  anon?: number;
  binary?: number;
}

const MAPPINGS = ['malloc', 'anon', 'binary'] as const;

/** How long the pool runs before its memory is sampled (idle, then with the jobs running), and for how long. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_S ?? 30) * 1000;
const SAMPLE_WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 30) * 1000;

/**
 * The daemons' periodic ad updates (s): 5 by default here, twelve times as often as a pool's default (60), so
 * that the garbage of periodic work shows; BENCH_UPDATE_INTERVAL=60 measures a pool as configured by default.
 */
const UPDATE_INTERVAL = process.env.BENCH_UPDATE_INTERVAL ?? '5';

/** KiB of one process (from its smaps_rollup). */
function memoryOf(pid: number | string): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (re: RegExp) => [...rollup.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    rss: field(/^Rss:\s+(\d+)/gm),
    private: field(/^Private_(?:Clean|Dirty):\s+(\d+)/gm),
    shared: field(/^Shared_(?:Clean|Dirty):\s+(\d+)/gm),
  };
}

/** KiB of RSS of one process by mapping (from its smaps). */
function mappingsOf(pid: number | string): Pick<Required<Memory>, (typeof MAPPINGS)[number]> {
  const out = { malloc: 0, anon: 0, binary: 0 };
  let kind: keyof typeof out | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (mapping) {
      const name = mapping[1]!;
      kind = name === '[heap]' ? 'malloc' : name === '' ? 'anon' : name === process.execPath ? 'binary' : undefined;
    } else if (kind && line.startsWith('Rss:')) out[kind] += Number(line.slice(4).trim().split(' ')[0]);
  }
  return out;
}

/** The processes of the pool at `home` whose command line runs one of the scripts (dist/daemons/<script>). */
export function daemonPids(home: string, scripts: string[]): Array<{ pid: string; script: string }> {
  const out: Array<{ pid: string; script: string }> = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const script = scripts.find((s) => argv.includes(join(DIST, 'daemons', s)));
      if (script && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`DSCHED_HOME=${home}`))
        out.push({ pid, script });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

/**
 * KiB of each process of the pool at `home` whose command line runs one of the scripts (dist/daemons/<script>),
 * split by mapping too when `byMapping`.
 */
export function daemonMemory(home: string, scripts: string[], byMapping = false): Map<string, Memory> {
  const out = new Map<string, Memory>();
  for (const { pid, script } of daemonPids(home, scripts)) {
    try {
      const p = { ...memoryOf(pid), ...(byMapping ? mappingsOf(pid) : {}) };
      const m = out.get(script) ?? { rss: 0, private: 0, shared: 0 };
      m.rss += p.rss;
      m.private += p.private;
      m.shared = Math.max(m.shared, p.shared);
      for (const k of MAPPINGS) if (p[k] !== undefined) m[k] = (m[k] ?? 0) + p[k];
      out.set(script, m);
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

// the node master, or an execute host's native one (DAEMON_LIST = STARTD)
export const EXECUTE_HOST = ['master/main.js', 'master/dsched-master', 'startd/main.js', 'startd/dsched-spawner'];
const CENTRAL_HOST = ['collector/main.js', 'negotiator/main.js', 'schedd/main.js'];
export const ALL_DAEMONS = [...EXECUTE_HOST, ...CENTRAL_HOST];

/** Totals over processes: RSS summed, private summed, shared pages once (the largest set of them). */
export function total(ms: Iterable<Memory>): Memory & { host: number } {
  const t = { rss: 0, private: 0, shared: 0 };
  for (const m of ms) {
    t.rss += m.rss;
    t.private += m.private;
    t.shared = Math.max(t.shared, m.shared);
  }
  return { ...t, host: t.private + t.shared };
}

/**
 * Each daemon's memory over a while: the median of its samples, one every `everyMs` for `windowMs`, all homes
 * sampled together. A daemon's heap swings with its periodic work (a busy startd between 65 and 88 MB RSS
 * every ten seconds or so, as garbage piles up and V8 collects it): a figure taken at one moment says as much
 * about when it was taken as about the daemon. Nothing is forced: the daemons run with their production flags.
 */
async function settled(
  homes: Array<[string, string[]]>,
  windowMs = SAMPLE_WINDOW_MS,
  everyMs = 2000,
): Promise<Map<string, Memory>> {
  const runs: Map<string, Memory>[] = [];
  for (const start = Date.now(); !runs.length || Date.now() - start < windowMs; await sleep(everyMs))
    runs.push(new Map(homes.flatMap(([home, scripts]) => [...daemonMemory(home, scripts, true)])));
  const out = new Map<string, Memory>();
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const script of new Set(runs.flatMap((r) => [...r.keys()]))) {
    const seen = runs.map((r) => r.get(script)).filter((m): m is Memory => !!m);
    const m: Memory = {
      rss: mid(seen.map((m) => m.rss)),
      private: mid(seen.map((m) => m.private)),
      shared: mid(seen.map((m) => m.shared)),
    };
    for (const k of MAPPINGS) m[k] = mid(seen.map((m) => m[k] ?? 0));
    out.set(script, m);
  }
  return out;
}

const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
const short = (script: string) =>
  script
    .replace('/main.js', '')
    .replace('startd/dsched-spawner', 'spawner')
    .replace('master/dsched-master', 'native master');
function row(what: string, figure: string, target: string) {
  console.log(`${what.padEnd(72)} ${figure.padEnd(46)} goal: ${target}`);
}

/** RSS (KiB) of Slurm's execute-host daemons when they run here (the issue's column): slurmd and munged. */
function slurmMemory(): number | undefined {
  let rss = 0;
  let found = false;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!['slurmd', 'munged'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) continue;
      rss += memoryOf(pid).rss;
      found = true;
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return found ? rss : undefined;
}

/** RSS and private KiB of an idle node process (a timer, nothing loaded). */
async function idleNode(): Promise<Memory> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000); process.stdout.write("up")']);
  try {
    await new Promise((resolve) => child.stdout.once('data', resolve));
    await sleep(500);
    return memoryOf(child.pid!);
  } finally {
    child.kill();
  }
}

interface Round {
  master: 'native' | 'node';
  idle: Map<string, Memory>;
  /** with the first BENCH_JOBS_LOW jobs running, when there was such a step */
  low?: { mem: Map<string, Memory>; running: number };
  busy: Map<string, Memory>;
  running: number;
}

/**
 * One round: a central pool (collector, negotiator, schedd) and an execute host (master, startd, spawner) in
 * homes of their own, as on two machines; the execute host idle, then with `jobs` sleeping jobs.
 */
async function round(master: Round['master'], jobs: number, lowJobs: number): Promise<Round> {
  const central = await TestPool.start({
    DAEMON_LIST: 'COLLECTOR, NEGOTIATOR, SCHEDD',
    UPDATE_INTERVAL: UPDATE_INTERVAL,
    NEGOTIATOR_INTERVAL: '2',
  });
  let exec: TestPool | undefined;
  const cli = (name: string) => join(DIST, 'cli', `${name}.js`);
  const run = (name: string, args: string[], input?: string) =>
    execFileSync(process.execPath, [cli(name), ...args], {
      env: central.env,
      cwd: central.work,
      input,
      encoding: 'utf8',
    });
  try {
    exec = await central.startExecuteHost({
      NUM_CPUS: String(jobs),
      MEMORY: String(jobs * 64),
      UPDATE_INTERVAL: UPDATE_INTERVAL,
      MASTER_NATIVE: master === 'native' ? 'true' : 'false',
    });
    // idle: the startd has advertised its slot and nothing runs
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !run('dstatus', ['-af', 'Name']).trim();)
      await sleep(200);
    // the central host's master is not the execute host's: its other daemons only
    const measure = async () => {
      await sleep(SETTLE_MS);
      return settled([
        [central.home, CENTRAL_HOST],
        [exec!.home, EXECUTE_HOST],
      ]);
    };
    const idle = await measure();
    /** Submit `n` sleeping jobs and wait until `total` run; how many do. */
    const startJobs = async (n: number, total: number) => {
      run('dsubmit', ['-'], `executable = /bin/sleep\narguments = 600\nrequest_memory = 32\nqueue ${n}\n`);
      let running = 0;
      for (const deadline = Date.now() + 300_000; Date.now() < deadline && running < total; await sleep(500)) {
        running = run('dq', ['-allusers', '-af', 'JobStatus'])
          .split('\n')
          .filter((l) => l.trim() === '2').length;
      }
      if (running < total) console.log(`(only ${running} of ${total} jobs started)`);
      return running;
    };
    // per running job: the growth of every daemon's memory with `jobs` sleeping jobs running, the first
    // `lowJobs` of them measured on the way
    let low: Round['low'];
    if (lowJobs > 0 && lowJobs < jobs) {
      const running = await startJobs(lowJobs, lowJobs);
      low = { mem: await measure(), running };
    }
    const running = await startJobs(jobs - (low ? lowJobs : 0), jobs);
    const busy = await measure();
    run('drm', ['-all']);
    return { master, idle, low, busy, running };
  } finally {
    await exec?.stop();
    await central.stop();
  }
}

/** The round whose figure is the median of its kind. */
function median(rounds: Round[], figure: (r: Round) => number): Round {
  return [...rounds].sort((a, b) => figure(a) - figure(b))[Math.floor(rounds.length / 2)]!;
}

async function main() {
  const jobs = Number(process.env.BENCH_JOBS ?? 128);
  const lowJobs = Number(process.env.BENCH_JOBS_LOW ?? 32);
  // BENCH_MASTERS=native,node measures both masters of the execute host, alternating (an A/B in one run)
  const masters = (process.env.BENCH_MASTERS ?? 'native').split(',') as Array<Round['master']>;
  const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
  console.log(
    `dsched on ${process.execPath} ${process.version}; an execute host (its own home) with ${jobs} cpus; ${rounds} round(s) of ${masters.join(', ')}`,
  );
  const all: Round[] = [];
  for (let i = 0; i < rounds; i++) for (const m of masters) all.push(await round(m, jobs, lowJobs));
  const bare = await idleNode();
  const slurm = slurmMemory();
  for (const m of masters) {
    const mine = all.filter((r) => r.master === m);
    const hostOf = (r: Round) => total(EXECUTE_HOST.flatMap((s) => r.idle.get(s) ?? []));
    const idleRound = median(mine, (r) => hostOf(r).rss);
    const host = hostOf(idleRound);
    // the issue's row: RSS summed, as `ps` shows it (and slurmd + munged were measured)
    row(
      `memory of an execute host's daemons (${m} master + startd + spawner), idle`,
      `${mb(host.rss)} (host: ${mb(host.host)})${slurm === undefined ? '' : `; slurmd + munged ${mb(slurm)}`}`,
      '≤ 60 MB',
    );
    for (const s of EXECUTE_HOST) {
      const mem = idleRound.idle.get(s);
      if (mem) row(`  ${short(s)}, idle`, `${mb(mem.rss)} RSS, ${mb(mem.private)} private`, '—');
    }
    const grow = (r: Round, scripts: string[], field: Exclude<keyof Memory, 'shared'> = 'rss') =>
      scripts.reduce((n, s) => n + (r.busy.get(s)?.[field] ?? 0) - (r.idle.get(s)?.[field] ?? 0), 0) /
      Math.max(1, r.running);
    const busyRound = median(mine, (r) => grow(r, ALL_DAEMONS));
    const kib = (scripts: string[]) =>
      `${grow(busyRound, scripts).toFixed(0)} KiB (private ${grow(busyRound, scripts, 'private').toFixed(0)} KiB)`;
    row(`memory per running job, all daemons (${busyRound.running} jobs)`, kib(ALL_DAEMONS), '≤ 50 KiB');
    const split = (s: string) => MAPPINGS.map((k) => `${k} ${grow(busyRound, [s], k).toFixed(0)}`).join(', ');
    for (const s of ALL_DAEMONS) if (busyRound.idle.has(s)) row(`  ${short(s)}`, `${kib([s])}; ${split(s)}`, '—');
    // what each further job adds, the one-time costs of the job path (paid by the first jobs) left out
    const slopeRounds = mine.filter((r) => r.low && r.running > r.low.running);
    if (!slopeRounds.length) continue;
    const slope = (r: Round, scripts: string[], field: 'rss' | 'private' = 'rss') =>
      scripts.reduce((n, s) => n + (r.busy.get(s)?.[field] ?? 0) - (r.low!.mem.get(s)?.[field] ?? 0), 0) /
      (r.running - r.low!.running);
    const slopeRound = median(slopeRounds, (r) => slope(r, ALL_DAEMONS));
    const perJob = (scripts: string[]) =>
      `${slope(slopeRound, scripts).toFixed(0)} KiB (private ${slope(slopeRound, scripts, 'private').toFixed(0)} KiB)`;
    row(
      `memory per additional running job, all daemons (slope ${slopeRound.low!.running} -> ${slopeRound.running} jobs)`,
      perJob(ALL_DAEMONS),
      '—',
    );
    for (const s of ALL_DAEMONS) if (slopeRound.idle.has(s)) row(`  ${short(s)}`, perJob([s]), '—');
  }
  row(`  for scale: node itself, idle (${process.version})`, `${mb(bare.rss)} RSS, ${mb(bare.private)} private`, '—');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
