// A/B of the end-to-end run of bench/pool-throughput.ts between two built checkouts (run on demand):
//   node bench/pool-ab.mjs A_DIR B_DIR [ROUNDS]
// e.g. `node bench/pool-ab.mjs /work/main . 3`. Each checkout runs its own bench/pool-throughput.ts against
// its own dist/, in the order A B B A, A B B A, … (a machine whose load drifts during the runs weighs on
// both alike), with BENCH_SUBMIT, BENCH_LATENCY and BENCH_CHAIN 0 unless set and BENCH_E2E 2000 unless set.
// Prints each run's jobs/s and CPU ms per job of each process, then the medians of each side. On a machine
// shared with other work, compare the CPU per job: the wall clock varies far more from run to run.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/pool-ab.mjs A_DIR B_DIR [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const env = {
  ...process.env,
  BENCH_SUBMIT: process.env.BENCH_SUBMIT ?? '0',
  BENCH_LATENCY: process.env.BENCH_LATENCY ?? '0',
  BENCH_CHAIN: process.env.BENCH_CHAIN ?? '0',
  BENCH_E2E: process.env.BENCH_E2E ?? '2000',
};

/** One end-to-end run in `dir`: jobs/s and CPU ms per job by process, or undefined if it printed none. */
function run(dir) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/pool-throughput.ts'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const out = r.stdout ?? '';
  const rate = /end-to-end: .* → (\d+) jobs\/s/.exec(out);
  const cpu = /end-to-end: CPU ms per job — (.*); all ([\d.]+)/.exec(out);
  if (!rate || !cpu) {
    console.log(`${dir}: no end-to-end figures (exit ${r.status}): ${(r.stderr ?? '').slice(-500)}`);
    return undefined;
  }
  const per = { 'jobs/s': Number(rate[1]), all: Number(cpu[2]) };
  for (const part of cpu[1].split(', ')) {
    const [name, ms] = part.split(' ');
    per[name] = Number(ms);
  }
  return per;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const sides = { A: { dir: resolve(a), runs: [] }, B: { dir: resolve(b), runs: [] } };
for (let i = 0; i < rounds; i++)
  for (const side of i % 2 ? ['B', 'A'] : ['A', 'B']) {
    const r = run(sides[side].dir);
    if (!r) continue;
    sides[side].runs.push(r);
    console.log(
      `${side} ${Object.entries(r)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
for (const [side, { dir, runs }] of Object.entries(sides)) {
  if (!runs.length) continue;
  const keys = Object.keys(runs[0]);
  const med = keys.map((k) => `${k} ${median(runs.map((r) => r[k])).toFixed(k === 'jobs/s' ? 0 : 2)}`);
  console.log(`${side} median of ${runs.length} (${dir}): ${med.join(', ')}`);
}
