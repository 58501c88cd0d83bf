// The performance table of the project's issue, row by row, on a real personal pool, with whole commands as
// users run them (`node dist/cli/X.js`): run on demand with `node --import tsx bench/commands.ts` (or
// `npm run bench commands`). Nothing is asserted; figures are printed with the target beside them. When
// `sbatch` is on PATH the Slurm column is measured too (a configured, running Slurm is assumed).
// Sizes: BENCH_IDS (10,000), BENCH_TOTALS (100,000), BENCH_RM (10,000), BENCH_CHAIN (100), BENCH_LAT (20),
// BENCH_E2E (1000), BENCH_RUNS (5: runs of each short command, the median is printed). The job-path rows
// (end to end, submit → start, the chain) are measured the same way for Slurm: a 1000-task array of
// /bin/true, `sbatch --wrap` writing its start time, 100 `sbatch --dependency=afterok:ID`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { join } from 'node:path';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';
import { daemonMemory, EXECUTE_HOST, total } from './memory.js';

const N = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const RUNS = N('BENCH_RUNS', 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

/** Wall time of a whole command, in ms. */
function timed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: opts.env, cwd: opts.cwd, input: opts.input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return t;
}
const medianOf = (f: () => number, runs = RUNS) => median(Array.from({ length: runs }, f));

function row(what: string, figure: string, target: string) {
  console.log(`${what.padEnd(58)} ${figure.padEnd(28)} goal: ${target}`);
}

async function main() {
  const pool = await TestPool.start({ NUM_CPUS: '128', MEMORY: '262144', UPDATE_INTERVAL: '5', NEGOTIATOR_INTERVAL: '10' });
  const cli = (name: string) => join(DIST, 'cli', `${name}.js`);
  const node = process.execPath;
  const env = pool.env;
  const cwd = pool.work;
  let e2eRate = 0;
  const dsubmit = (text: string, extra: string[] = []) =>
    Number(/cluster (\d+)/.exec(execFileSync(node, [cli('dsubmit'), ...extra, '-'], { env, cwd, input: text, encoding: 'utf8' }))?.[1]);
  try {
    console.log(`dsched on ${process.execPath} ${process.version}; ${RUNS} runs per short command, medians`);

    // cold start of a command against node itself
    const bare = medianOf(() => timed(node, ['-e', '0']));
    const help = medianOf(() => timed(node, [cli('dq'), '--help']));
    row('cold start: dq --help (node -e 0)', `${ms(help)} (${ms(bare)}): ${(help / bare).toFixed(2)}×`, '≤ 1.7× node -e 0');

    // memory of the execute host's daemons, idle (master, startd and spawner of this personal pool)
    await sleep(2000);
    // (per running job: bench/memory.ts)
    const execHost = total(daemonMemory(pool.home, EXECUTE_HOST).values());
    row('memory: master + startd + spawner, idle', `${(execHost.rss / 1024).toFixed(0)} MB (host: ${(execHost.host / 1024).toFixed(0)} MB)`, '≤ 60 MB');

    // submit → start on an idle pool, the submit command included: the job writes the time it started
    const lat: number[] = [];
    for (let i = 0; i < N('BENCH_LAT', 20); i++) {
      const out = `lat-${i}.out`;
      const t0 = Date.now() * 1e6;
      dsubmit(`executable = /bin/date\narguments = +%s%N\noutput = ${out}\nqueue\n`);
      let started = NaN;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && !(started > 0); await sleep(5)) {
        try {
          started = Number(readFileSync(join(cwd, out), 'utf8').trim());
        } catch {
          /* not yet */
        }
      }
      lat.push((started - t0) / 1e6);
    }
    row('submit → job start, dsubmit included, idle pool', `median ${ms(median(lat))}`, 'median ≤ 100 ms');

    // end to end: 1000 × /bin/true in one submission on 128 slots, the submit command included
    {
      const n = N('BENCH_E2E', 1000);
      // the end is seen over gRPC (a count the schedd keeps): a dq command every few ms would load the machine
      const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token(userInfo().username)));
      const left = async () => {
        for await (const page of schedd.queryPages({ ids: [], owners: [], constraint: '', projection: [], history: false, limit: 0, counts_only: true }))
          if (page.last && page.matched) return page.matched.idle + page.matched.running;
        return -1;
      };
      const t0 = performance.now();
      dsubmit(`executable = /bin/true\nqueue ${n}\n`);
      for (const deadline = Date.now() + 600_000; Date.now() < deadline && (await left()) !== 0; ) await sleep(10);
      const t = performance.now() - t0;
      schedd.close();
      e2eRate = n / (t / 1000);
      row(`end to end: ${n} × /bin/true in one submission, 128 slots`, `${e2eRate.toFixed(0)} jobs/s (${ms(t)})`, '≥ 6× Slurm (≥ 380 jobs/s)');
    }

    // 100 chained submit commands (each depends on the one before), held so that nothing runs meanwhile
    {
      const n = N('BENCH_CHAIN', 100);
      const t0 = performance.now();
      let prev = dsubmit('executable = /bin/true\nhold = true\nqueue\n');
      for (let i = 1; i < n; i++) prev = dsubmit('executable = /bin/true\nqueue\n', ['-W', `depend=afterok:${prev}`]);
      row(`${n} chained submit commands (-W depend=afterok)`, ms(performance.now() - t0), '≤ 8 s');
      execFileSync(node, [cli('drm'), '-all'], { env, cwd });
    }

    // ids of a 10,000-job queue
    {
      const n = N('BENCH_IDS', 10_000);
      const cluster = dsubmit(`executable = /bin/true\nhold = true\nqueue ${n}\n`);
      const t = medianOf(() => timed(node, [cli('dq'), '-af', 'ClusterId'], { env, cwd }));
      row(`list the ids of a ${n}-job queue (dq -af ClusterId)`, ms(t), '≤ 1.5× squeue');
      const rm = timed(node, [cli('drm'), String(cluster)], { env, cwd });
      row(`remove ${n} jobs (drm CLUSTER)`, ms(rm), '≤ 0.5 s');
    }

    // summary of a large queue
    {
      const n = N('BENCH_TOTALS', 100_000);
      dsubmit(`executable = /bin/true\nhold = true\nqueue ${n}\n`);
      const t = medianOf(() => timed(node, [cli('dq'), '-totals'], { env, cwd }));
      row(`summary of ${n} queued jobs (dq -totals)`, ms(t), '≤ 200 ms');
      execFileSync(node, [cli('drm'), '-all'], { env, cwd });
    }
  } finally {
    await pool.stop();
  }

  if (spawnSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).status === 0) {
    const bare = medianOf(() => timed('squeue', ['--help']));
    row('slurm: cold start of squeue --help', ms(bare), '—');
    row('slurm: list the queue (squeue -h -o %i)', ms(medianOf(() => timed('squeue', ['-h', '-o', '%i']))), '—');
    await slurmJobPath(e2eRate);
  } else {
    console.log('(sbatch is not on PATH: no Slurm column)');
  }
}

await main();

/** The job-path rows for Slurm (a configured, running Slurm; the jobs run in a temporary directory). */
async function slurmJobPath(dschedRate: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-slurm-'));
  const sbatch = (args: string[]) => execFileSync('sbatch', ['--parsable', '--chdir', dir, '--output', '/dev/null', ...args], { encoding: 'utf8' }).trim().split(';')[0]!;
  const queued = (id: string) => execFileSync('squeue', ['-h', '-j', id, '-o', '%i'], { encoding: 'utf8' }).trim() !== '';
  try {
    const n = N('BENCH_E2E', 1000);
    const t0 = performance.now();
    const id = sbatch([`--array=1-${n}`, '--wrap', '/bin/true']);
    for (const deadline = Date.now() + 600_000; Date.now() < deadline && queued(id); ) await sleep(20);
    const rate = n / ((performance.now() - t0) / 1000);
    row(`slurm: end to end, ${n} × /bin/true (sbatch --array)`, `${rate.toFixed(0)} jobs/s`, dschedRate ? `dsched ${(dschedRate / rate).toFixed(1)}× (goal ≥ 6×)` : '—');

    const lat: number[] = [];
    for (let i = 0; i < N('BENCH_LAT', 20); i++) {
      const out = join(dir, `lat-${i}.out`);
      const t = Date.now() * 1e6;
      sbatch(['--wrap', `date +%s%N > ${out}`]);
      let started = NaN;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && !(started > 0); await sleep(5)) {
        try {
          started = Number(readFileSync(out, 'utf8').trim());
        } catch {
          /* not yet */
        }
      }
      lat.push((started - t) / 1e6);
    }
    row('slurm: submit → job start, sbatch included', `median ${ms(median(lat))}`, '—');

    const chain = N('BENCH_CHAIN', 100);
    const c0 = performance.now();
    let prev = sbatch(['--hold', '--wrap', '/bin/true']);
    const first = prev;
    for (let i = 1; i < chain; i++) prev = sbatch([`--dependency=afterok:${prev}`, '--wrap', '/bin/true']);
    row(`slurm: ${chain} chained sbatch (--dependency=afterok)`, ms(performance.now() - c0), '—');
    spawnSync('scancel', [first]); // the rest can never run: Slurm cancels or leaves them pending
    spawnSync('scancel', ['--name', 'wrap', '--state', 'PENDING']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
