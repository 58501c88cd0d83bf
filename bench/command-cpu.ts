// The CPU time of whole commands, to the tenth of a millisecond: what a change to a command's start costs or
// saves shows here even on a loaded machine, where wall times (bench/commands.ts) vary by hundreds of ms.
// Each command runs as users run it (`node dist/cli/X.js`), with a preload that records the process's own
// CPU time (process.cpuUsage, user + sys) as it exits. Run on demand:
//   node --import tsx bench/command-cpu.ts                      this build
//   BENCH_BASE=/path/to/other/dist node --import tsx bench/command-cpu.ts   A/B, runs alternating
// BENCH_RUNS (31) runs of each; printed: the median and the mean of the lower half (the runs the machine's
// load touched least). `node -e 0` is measured too, as the floor. The code caches live in a fresh folder
// per build: the first run of each command (not counted) makes them.
// Then the hot commands as installed (the launcher, dist/cli/dcmd, through a warm command agent of each build):
// the agent's CPU per command (from /proc, over batches of BENCH_AGENT_BATCH (50) commands, the builds
// alternating batch by batch) and the batches' median wall time, over a queue of BENCH_IDS (10,000) held jobs;
// BENCH_AGENT_ROUNDS (6) batches per command and build. BENCH_LAUNCHER=0 leaves this part out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Launcher } from '../test/integration/harness/agent.js';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 31);
const dir = mkdtempSync(join(tmpdir(), 'bench-command-cpu-'));
const preload = join(dir, 'cpu.cjs');
const out = join(dir, 'cpu');
writeFileSync(
  preload,
  `process.on('exit', () => { const c = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(out)}, String((c.user + c.system) / 1000)); });\n`,
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lowerHalf = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b).slice(0, Math.ceil(xs.length / 2));
  return s.reduce((a, b) => a + b, 0) / s.length;
};

/** CPU ms (user + sys) a process has used so far (0 once it is gone). */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The agent's CPU per hot command and the commands' wall time, each build's launcher in turn. */
async function installed(pool: TestPool, builds: Array<{ label: string; dist: string }>) {
  const batch = Number(process.env.BENCH_AGENT_BATCH ?? 50);
  const rounds = Number(process.env.BENCH_AGENT_ROUNDS ?? 6);
  const ids = Number(process.env.BENCH_IDS ?? 10_000);
  const sub = spawnSync(process.execPath, [join(DIST, 'cli', 'dsubmit.js'), '-'], {
    cwd: pool.work,
    env: pool.env,
    input: `executable = /bin/true\nhold = true\nqueue ${ids}\n`,
    encoding: 'utf8',
  });
  if (sub.status !== 0) throw new Error(`dsubmit failed: ${sub.stderr}`);
  const launchers = builds.map((b) => new Launcher(pool, join(b.dist, 'cli', 'dcmd')));
  try {
    for (const l of launchers) await l.waitForAgent();
    const commands = [['-af', 'ClusterId'], ['-totals'], ['--version']];
    const agentMs = new Map<string, number[]>();
    const wallMs = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++)
      for (const args of commands)
        for (const k of r % 2 ? [...builds.keys()].reverse() : builds.keys()) {
          const l = launchers[k]!;
          const key = `${builds[k]!.label}: dq ${args.join(' ')}`;
          const agents = l.agents();
          const c0 = agents.reduce((a, pid) => a + cpuMs(pid), 0);
          const walls: number[] = [];
          for (let i = 0; i < batch; i++) {
            const t0 = performance.now();
            const c = spawnSync(join(l.bin, 'dq'), args, { cwd: pool.work, env: l.env, maxBuffer: 1 << 26 });
            walls.push(performance.now() - t0);
            if (c.status !== 0) throw new Error(`dq ${args.join(' ')} failed (${c.status}): ${c.stderr}`);
          }
          agentMs.set(key, [...(agentMs.get(key) ?? []), (agents.reduce((a, pid) => a + cpuMs(pid), 0) - c0) / batch]);
          wallMs.set(key, [...(wallMs.get(key) ?? []), median(walls)]);
        }
    console.log(
      `installed (launcher and warm agent), ${ids} held jobs: the agent's CPU per command, median of ${rounds} batches of ${batch}, alternating; the batches' median wall time`,
    );
    for (const [key, xs] of agentMs)
      console.log(
        `${key.padEnd(52)} agent ${median(xs).toFixed(1).padStart(5)} ms CPU   wall ${median(wallMs.get(key)!).toFixed(1).padStart(6)} ms`,
      );
  } finally {
    for (const l of launchers) l.close();
  }
}

const pool = await TestPool.start({ NUM_CPUS: '4' });
try {
  pool.file('job.sub', 'executable = /bin/true\nhold = true\nqueue\n');
  pool.file('job.sh', '#!/bin/sh\n#PBS -N chained\n/bin/true\n', 0o755);
  const first = await pool.submit('job.sub');
  const builds = process.env.BENCH_BASE
    ? [
        { label: 'base', dist: process.env.BENCH_BASE },
        { label: 'this', dist: DIST },
      ]
    : [{ label: 'this', dist: DIST }];
  const caches = builds.map(() => mkdtempSync(join(dir, 'cache-')));
  const commands: Array<{ what: string; cli?: string; args: string[] }> = [
    { what: 'node -e 0', args: ['-e', '0'] },
    { what: 'dsubmit job.sub', cli: 'dsubmit', args: ['job.sub'] },
    {
      what: `dsubmit -W depend=afterok:${first} job.sh`,
      cli: 'dsubmit',
      args: ['-W', `depend=afterok:${first}`, 'job.sh'],
    },
    { what: 'dq --help', cli: 'dq', args: ['--help'] },
    { what: 'dq', cli: 'dq', args: [] },
  ];
  const cpu = new Map<string, number[]>();
  const run = (k: number, c: (typeof commands)[number]) => {
    const args = c.cli ? [join(builds[k]!.dist, 'cli', `${c.cli}.js`), ...c.args] : c.args;
    const r = spawnSync(process.execPath, ['-r', preload, ...args], {
      cwd: pool.work,
      env: { ...pool.env, XDG_CACHE_HOME: caches[k] },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${c.what} failed (${r.status}): ${r.stderr}`);
    return Number(readFileSync(out, 'utf8'));
  };
  for (const [k] of builds.entries()) for (const c of commands) run(k, c); // the code caches
  for (let i = 0; i < RUNS; i++) {
    for (const c of commands) {
      for (const [k, b] of builds.entries()) {
        const key = `${c.cli ? `${b.label}: ` : ''}${c.what}`;
        if (!c.cli && k > 0) continue;
        cpu.set(key, [...(cpu.get(key) ?? []), run(k, c)]);
      }
    }
  }
  console.log(`CPU time (user + sys) of whole commands, ${RUNS} runs each, alternating`);
  for (const [key, xs] of cpu)
    console.log(
      `${key.padEnd(52)} median ${median(xs).toFixed(1).padStart(6)} ms   lower half ${lowerHalf(xs).toFixed(1).padStart(6)} ms`,
    );
  if (process.env.BENCH_LAUNCHER !== '0') await installed(pool, builds);
} finally {
  await pool.stop();
  rmSync(dir, { recursive: true, force: true });
}
