// Chaos on a real personal pool (run on demand: `npm run chaos`): jobs are submitted and run while daemons
// are killed with SIGKILL at random, and now and then the whole host "crashes" (every daemon and every job
// killed at once, then `dsched start`, as a reboot would). At the end it prints the counts that must all be
// zero: acknowledged jobs lost, jobs run to completion twice, finished jobs without a terminate event in
// their user log or with more than one, idle jobs stranded (idle while slots are free and nothing happens). Exit 1 if any is not.
//
// Run to completion twice, honestly: a job's end that was on disk (a spawner's or the startd's journal, the
// user log) when a host crashed must never run again, nor may a job that a daemon kill came between. A job
// whose end was not on disk yet when the host crashed, because it ended in the last CHAOS_UNRECORDED_MS
// (1000) before the crash or while the crash was being made, is not a double run of the pool's: a real power
// loss takes such an end on any system. Those are counted apart, with how long before the crash they ended.
// The crash's time is when the pool is frozen, the first step of making it.
//
// Sizes: CHAOS_JOBS (2000), CHAOS_SLOTS (32), CHAOS_KILLS (30), CHAOS_CRASHES (5), CHAOS_SEED.
// Every loop is bounded: the whole run gives up after CHAOS_MINUTES (30). CHAOS_KEEP=DIR copies the pool's
// home and work directory there at the end (logs, the jobs' starts and ends, the kill timeline).
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSpawnerJournal, spawnerJournals } from '../daemons/startd/spawner-journal.js';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';

const N = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const JOBS = N('CHAOS_JOBS', 2000);
const SLOTS = N('CHAOS_SLOTS', 32);
const KILLS = N('CHAOS_KILLS', 30);
const CRASHES = N('CHAOS_CRASHES', 5);
const DEADLINE = Date.now() + N('CHAOS_MINUTES', 30) * 60_000;
const SEED = N('CHAOS_SEED', Date.now() % 100_000);
const UNRECORDED_MS = N('CHAOS_UNRECORDED_MS', 1000);
let seed = SEED;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;

// the keeper is the spawner's parent (a subreaper): killing either ends the jobs that run there
const DAEMONS = ['collector', 'negotiator', 'schedd', 'startd', 'spawner', 'keeper', 'master'] as const;
const BATCH = 100;

/** pids of this pool's processes: daemons (their command line names dist/daemons/…) whose DSCHED_HOME is the pool's. */
function poolProcesses(home: string): Array<{ pid: number; daemon: string }> {
  const out: Array<{ pid: number; daemon: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const script = cmd.find((a) => a.includes(`${DIST}/daemons/`));
      if (!script) continue;
      if (!readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`DSCHED_HOME=${home}`)) continue;
      // one program, two processes: the keeper names itself
      const daemon = script.endsWith('dsched-spawner')
        ? readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'dsched-keeper'
          ? 'keeper'
          : 'spawner'
        : script.split('/daemons/')[1]!.split('/')[0]!;
      out.push({ pid: Number(d), daemon });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The job processes: each one's environment carries the run's marker (its children inherit it). */
function jobProcesses(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'utf8').includes(`CHAOS_MARKER=${marker}`)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

function signalAll(pids: number[], sig: NodeJS.Signals) {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* gone */
    }
  }
}
const kill9 = (pids: number[]) => signalAll(pids, 'SIGKILL');

/**
 * A power cut: everything stops at the same instant. Finding the jobs takes a while (every process's
 * environment is read), so they are found first and then the pool and its jobs are frozen together (SIGSTOP,
 * again until no new process shows: a frozen spawner forks nothing), then all killed. Killing the daemons
 * first and the jobs after left jobs running, and ending, with no daemon to see them, which no crash does.
 * Returns the crash's time: when the freezing began (a job that ends after it ended while the host was down).
 */
function crashHost(home: string, marker: string): number {
  const frozen = new Set<number>();
  let found = [...poolProcesses(home).map((p) => p.pid), ...jobProcesses(marker)];
  const at = Date.now();
  for (let i = 0; i < 20 && found.length; i++) {
    signalAll(found, 'SIGSTOP');
    for (const p of found) frozen.add(p);
    found = [...poolProcesses(home).map((p) => p.pid), ...jobProcesses(marker)].filter((p) => !frozen.has(p));
  }
  kill9([...frozen]);
  for (let i = 0, jobs = jobProcesses(marker); jobs.length && i < 10; i++, jobs = jobProcesses(marker)) kill9(jobs);
  return at;
}

/**
 * The jobs whose end a crashed pool has on disk (read before it starts again): in a job spawner's journal
 * (every end line, and what a keeper adopted), in the startd's exit journal, or as a terminate event (005) in
 * the user log, which the schedd writes before its queue records the end.
 */
function recordedEnds(home: string, userLog: string): Set<string> {
  const ids = new Set<string>();
  const run = join(home, 'run');
  for (const { file } of spawnerJournals(run)) {
    for (const e of readSpawnerJournal(file)) ids.add(`${e.note.cluster}.${e.note.proc}`);
    for (const line of readFileSync(file, 'utf8').split('\n'))
      try {
        const r = JSON.parse(line) as { note?: { cluster: number; proc: number }; exitCode?: number };
        if (r.note && typeof r.exitCode === 'number') ids.add(`${r.note.cluster}.${r.note.proc}`);
      } catch {
        /* cut short */
      }
  }
  const startd = join(run, 'startd-exits.journal');
  for (const line of existsSync(startd) ? readFileSync(startd, 'utf8').split('\n') : [])
    try {
      const r = JSON.parse(line) as { ev?: { type?: string; id?: { cluster?: number; proc?: number } } };
      if ((r.ev?.type === 'exited' || r.ev?.type === 'failed') && r.ev.id)
        ids.add(`${r.ev.id.cluster ?? 0}.${r.ev.id.proc ?? 0}`);
    } catch {
      /* cut short */
    }
  if (existsSync(userLog))
    for (const m of readFileSync(userLog, 'utf8').matchAll(/^005 \((\d+)\.(\d+)\.\d+\)/gm))
      ids.add(`${Number(m[1])}.${Number(m[2])}`);
  return ids;
}

async function main() {
  const pool = await TestPool.start({ NUM_CPUS: String(SLOTS), MEMORY: String(SLOTS * 256), JOB_LEASE_DURATION: '20' });
  const marker = `chaos-${process.pid}-${Math.floor(random() * 1e9)}`;
  const cli = (c: string) => join(DIST, 'cli', `${c}.js`);
  const run = (c: string, args: string[], input?: string) =>
    spawnSync(process.execPath, [cli(c), ...args], {
      env: pool.env,
      cwd: pool.work,
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
  // each job appends its id to done.txt as its very last act: a line twice is a job that ran to completion
  // twice (starts.txt and the time on each line tell which kill came between the runs)
  pool.file(
    'job.sh',
    `#!/bin/sh\necho "$1 $(date +%s.%N) $$" >> starts.txt\nsleep "$2"\necho "$1 $(date +%s.%N)" >> done.txt\n`,
    0o755,
  );
  const timeline = (what: string, at = Date.now()) =>
    appendFileSync(join(pool.work, 'timeline.txt'), `${(at / 1000).toFixed(3)} ${what}\n`);
  /** each host crash: when, and which jobs' ends were on disk then */
  const crashLog: Array<{ t: number; recorded: Set<string> }> = [];
  const acknowledged = new Set<string>();
  let submitted = 0;
  const submitBatch = () => {
    const r = run(
      'dsubmit',
      ['-'],
      `executable = job.sh\narguments = $(Cluster).$(Process) 0.$(Process)\nenvironment = CHAOS_MARKER=${marker}\nlog = chaos.log\nrequest_memory = 16\nqueue ${BATCH}\n`,
    );
    const m = /cluster (\d+)/.exec(r.stdout ?? '');
    if (r.status === 0 && m) {
      for (let p = 0; p < BATCH; p++) acknowledged.add(`${m[1]}.${p}`);
      submitted += BATCH;
    }
  };
  const restartPool = () => {
    for (let i = 0; i < 20; i++) {
      const r = run('dsched', ['start']);
      timeline(`dsched start: ${r.status}`);
      if (r.status === 0) return;
      if (i === 19)
        throw new Error(`the pool does not start again after a kill: ${r.stderr}${r.stdout}\n${pool.logs()}`);
      spawnSync('sleep', ['1']);
    }
  };

  const lines = (name: string) =>
    existsSync(join(pool.work, name)) ? pool.read(name).trim().split('\n').filter(Boolean) : [];
  /** Seconds from each restart of the pool (`dsched start` done) until a job runs again. */
  const restartToRunning: number[] = [];
  const runningAgain = async () => {
    const t0 = Date.now();
    const unfinished = () => new Set(lines('done.txt').map((l) => l.split(' ')[0])).size < acknowledged.size;
    while (Date.now() - t0 < 120_000 && unfinished()) {
      if (lines('starts.txt').some((l) => Number(l.split(' ')[1]) * 1000 > t0)) {
        restartToRunning.push((Date.now() - t0) / 1000);
        return;
      }
      await sleep(100);
    }
  };

  let kills = 0;
  let crashes = 0;
  const killed: Record<string, number> = {};
  try {
    console.log(`chaos: ${JOBS} jobs on ${SLOTS} slots, ${KILLS} kills, ${CRASHES} host crashes, seed ${SEED}`);
    while (Date.now() < DEADLINE && (submitted < JOBS || kills < KILLS || crashes < CRASHES)) {
      if (submitted < JOBS) submitBatch();
      await sleep(500 + random() * 1500);
      if (crashes < CRASHES && random() < CRASHES / (KILLS + CRASHES)) {
        const at = crashHost(pool.home, marker);
        timeline('host crash', at);
        crashLog.push({ t: at / 1000, recorded: recordedEnds(pool.home, join(pool.work, 'chaos.log')) });
        crashes++;
        await sleep(200);
        restartPool();
        await runningAgain();
      } else if (kills < KILLS) {
        const procs = poolProcesses(pool.home);
        const want = pick([...DAEMONS]);
        const victim = procs.find((p) => p.daemon === want);
        if (victim) {
          kill9([victim.pid]);
          timeline(`kill ${want}`);
          kills++;
          killed[want] = (killed[want] ?? 0) + 1;
          // the master restarts the others; a killed master is restarted as an init system would
          if (want === 'master') {
            await sleep(200);
            restartPool();
            await runningAgain();
          }
        }
      }
    }
    console.log(
      `chaos: ${kills} kills (${Object.entries(killed)
        .map(([d, n]) => `${d} ${n}`)
        .join(', ')}), ${crashes} host crashes, ${acknowledged.size} jobs acknowledged`,
    );

    // let the pool finish: every acknowledged job in history, or the deadline
    let history = new Set<string>();
    let lastChange = Date.now();
    for (;;) {
      const r = run('dhistory', ['-af', 'ClusterId', 'ProcId']);
      if (r.status !== 0) console.log(`dhistory failed (${r.status}): ${r.stderr}`);
      const now = new Set(
        (r.stdout ?? '')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.trim().split(/\s+/).join('.')),
      );
      if (now.size !== history.size) lastChange = Date.now();
      history = now;
      if ([...acknowledged].every((id) => history.has(id))) break;
      if (Date.now() > DEADLINE || Date.now() - lastChange > 180_000) break;
      await sleep(2000);
    }
    const queue = run('dq', ['-allusers', '-af', 'ClusterId', 'ProcId', 'JobStatus']).stdout ?? '';
    const inQueue = new Map<string, number>(
      queue
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [c, p, s] = l.trim().split(/\s+/);
          return [`${c}.${p}`, Number(s)] as const;
        }),
    );
    const lost = [...acknowledged].filter((id) => !history.has(id) && !inQueue.has(id));
    const stranded = [...inQueue].filter(([, s]) => s === 1).map(([id]) => id);
    const doneLines = existsSync(join(pool.work, 'done.txt')) ? pool.read('done.txt').trim().split('\n') : [];
    const count = new Map<string, number>();
    for (const l of doneLines) {
      const id = l.split(' ')[0]!;
      count.set(id, (count.get(id) ?? 0) + 1);
    }
    const twice = [...count].filter(([, n]) => n > 1).map(([id]) => id);
    const log = existsSync(join(pool.work, 'chaos.log')) ? pool.read('chaos.log') : '';
    const terminated = new Map<string, number>();
    for (const m of log.matchAll(/^005 \((\d+)\.(\d+)\.\d+\)/gm))
      terminated.set(`${Number(m[1])}.${Number(m[2])}`, (terminated.get(`${Number(m[1])}.${Number(m[2])}`) ?? 0) + 1);
    const terminatedTwice = [...terminated].filter(([, n]) => n > 1).map(([id]) => id);
    const noTerminate = [...history].filter((id) => acknowledged.has(id) && !terminated.has(id));

    // which fault came just before each job's second run (from the timeline)
    const faults = existsSync(join(pool.work, 'timeline.txt'))
      ? pool
          .read('timeline.txt')
          .trim()
          .split('\n')
          .map((l) => ({ t: Number(l.split(' ')[0]), what: l.split(' ').slice(1).join(' ') }))
          .filter((f) => !f.what.startsWith('dsched start'))
      : [];
    // each job that completed twice: ours, unless a host crash came after its first end before the pool
    // could have had that end on disk (see the top of this file)
    const cause = new Map<string, number>();
    const ours: string[] = [];
    const unrecorded: Array<{ id: string; before: number }> = [];
    for (const id of twice) {
      const starts = lines('starts.txt')
        .filter((l) => l.split(' ')[0] === id)
        .map((l) => Number(l.split(' ')[1]))
        .sort((a, b) => a - b);
      const ended = Math.min(...doneLines.filter((l) => l.split(' ')[0] === id).map((l) => Number(l.split(' ')[1])));
      const second = starts.find((t) => t > ended) ?? Infinity;
      const crash = crashLog.find((c) => c.t > ended - UNRECORDED_MS / 1000 && c.t <= second);
      const before = crash ? Math.round((crash.t - ended) * 1000) : 0;
      if (crash && !crash.recorded.has(id) && before <= UNRECORDED_MS) {
        unrecorded.push({ id, before });
        continue;
      }
      ours.push(id);
      const f = faults.filter((x) => x.t <= second).at(-1)?.what ?? 'none';
      cause.set(f, (cause.get(f) ?? 0) + 1);
    }
    const show = (xs: string[]) => (xs.length ? ` (${xs.slice(0, 10).join(' ')}${xs.length > 10 ? ' …' : ''})` : '');
    console.log(`acknowledged jobs lost: ${lost.length}${show(lost)}`);
    console.log(
      `jobs run to completion twice: ${ours.length}${show(ours)}${ours.length ? `; the fault before the second run: ${[...cause].map(([f, n]) => `${f} ${n}`).join(', ')}` : ''}`,
    );
    const ms = unrecorded.map((u) => u.before).sort((a, b) => a - b);
    console.log(
      `  not counted: jobs that completed again because a host crash came before their end was on disk (ended ≤ ${UNRECORDED_MS} ms before it, or while it was made; a power loss takes such an end on any system): ${unrecorded.length}${show(unrecorded.map((u) => u.id))}${ms.length ? `, ended ${ms[0]}…${ms.at(-1)} ms before the crash` : ''}`,
    );
    console.log(`finished jobs without a terminate event: ${noTerminate.length}${show(noTerminate)}`);
    console.log(`jobs with more than one terminate event: ${terminatedTwice.length}${show(terminatedTwice)}`);
    console.log(`idle jobs stranded at the end: ${stranded.length}${show(stranded)}`);
    console.log(`finished ${history.size} of ${acknowledged.size}; still queued ${inQueue.size}`);
    const sorted = [...restartToRunning].sort((a, b) => a - b);
    if (sorted.length)
      console.log(
        `restart to running (dsched start done → a job runs again), ${sorted.length} restarts: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} s, max ${sorted.at(-1)!.toFixed(1)} s`,
      );
    process.exitCode =
      lost.length || ours.length || noTerminate.length || terminatedTwice.length || stranded.length ? 1 : 0;
    if (process.exitCode) console.log(pool.logs());
  } finally {
    const keep = process.env.CHAOS_KEEP;
    if (keep) {
      // files and folders only (the home holds sockets)
      const filter = (src: string) => existsSync(src) && (lstatSync(src).isFile() || lstatSync(src).isDirectory());
      cpSync(pool.home, join(keep, 'home'), { recursive: true, filter });
      cpSync(pool.work, join(keep, 'work'), { recursive: true, filter });
      console.log(`chaos: the pool's home and work directory are in ${keep}`);
    }
    await pool.stop();
  }
}

await main();
