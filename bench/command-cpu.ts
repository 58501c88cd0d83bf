// The CPU time of whole commands, to the tenth of a millisecond: what a change to a command's start costs or
// saves shows here even on a loaded machine, where wall times (bench/commands.ts) vary by hundreds of ms.
// Each command runs as users run it (`node dist/cli/X.js`), with a preload that records the process's own
// CPU time (process.cpuUsage, user + sys) as it exits. Run on demand:
//   node --import tsx bench/command-cpu.ts                      this build
//   BENCH_BASE=/path/to/other/dist node --import tsx bench/command-cpu.ts   A/B, runs alternating
// BENCH_RUNS (31) runs of each; printed: the median and the mean of the lower half (the runs the machine's
// load touched least). `node -e 0` is measured too, as the floor. The code caches live in a fresh folder
// per build: the first run of each command (not counted) makes them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
} finally {
  await pool.stop();
  rmSync(dir, { recursive: true, force: true });
}
