// The performance table of the project's issue, row by row, on a real personal pool, with whole commands as
// users run them (`node dist/cli/X.js`): run on demand with `node --import tsx bench/commands.ts` (or
// `npm run bench commands`). Nothing is asserted; figures are printed with the target beside them. When
// `sbatch` is on PATH and a running Slurm answers squeue, the Slurm column is measured too.
// Side by side with Slurm (a personal one on this host, tuned as the issue's baseline: 128 CPUs on one node), as root:
//   eval "$(bench/slurm-pool.sh start)"        # prints SLURM_CONF once its node is idle
//   BENCH_E2E_ROUNDS=5 node --import tsx bench/commands.ts
//   bench/slurm-pool.sh stop                   # stops it and removes its directory
// The end-to-end row then runs BENCH_E2E_ROUNDS times (1 by default), alternating dsched's and Slurm's runs (the order
// turned each round), and prints each run with the daemons' CPU time (dsched: all its daemons; Slurm: slurmctld +
// slurmd, its per-job slurmstepd not counted; the jobs' in neither) and the machine's load average, then the medians
// and their ratio. The other Slurm rows: slurmd + munged idle memory (from the pid files beside $SLURM_CONF that
// slurm-pool.sh writes), the ids of a held BENCH_IDS-task array (`squeue -h -r -o %i`, one line per task like dq's),
// its removal (`scancel ID`: Slurm keeps a pending array as one record, dsched a cluster as its jobs), submit → start
// and the chain. On a loaded machine, compare the medians and the CPU times rather than one run's wall time.
// Sizes: BENCH_IDS (10,000), BENCH_TOTALS (100,000), BENCH_RM (10,000), BENCH_CHAIN (100), BENCH_LAT (20),
// BENCH_E2E (1000), BENCH_RUNS (5: runs of each short command, the median is printed). The job-path rows
// (end to end, submit → start, the chain) are measured the same way for Slurm: a 1000-task array of
// /bin/true, `sbatch --wrap` writing its start time, 100 `sbatch --dependency=afterok:ID`.
// A/B: BENCH_BASE=DIR names the dist/ of another build (say main's, built in a copy of the repository): the
// cold start, the job-path rows and the dq rows are then measured for both builds on the same pool,
// alternating (each latency submit, each 1000-job run, each dq; the chains as A B B A), so the machine's
// load falls on both alike.
// Every command's CPU time (user + sys, from /usr/bin/time when it is there) is printed beside its wall time.
// The installed commands (the launcher, dist/cli/dcmd, with this user's command agent warm) are measured too,
// labelled "installed:", alternating with the others (BENCH_LAUNCHER=0 leaves them out); their CPU time is the
// launcher's only, the agent's is not in it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, userInfo } from 'node:os';
import { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { dirname, join } from 'node:path';
import { Launcher } from '../test/integration/harness/agent.js';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';
import { ALL_DAEMONS, daemonMemory, daemonPids, EXECUTE_HOST, total } from './memory.js';

const N = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const RUNS = N('BENCH_RUNS', 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = join(tmpdir(), `bench-commands-cpu-${process.pid}`);

/** A whole command: its wall time and CPU time (user + sys, NaN without /usr/bin/time) in ms, and its output. */
function measured(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}) {
  const [file, argv] = TIME ? [TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(file, argv, {
    env: opts.env,
    cwd: opts.cwd,
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const cpu = TIME
    ? readFileSync(cpuFile, 'utf8')
        .trim()
        .split('\n')
        .pop()!
        .split(' ')
        .reduce((a, x) => a + Number(x) * 1000, 0)
    : NaN;
  return { wall, cpu, stdout: r.stdout };
}
/** Wall time of a whole command, in ms. */
const timed = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}) =>
  measured(cmd, args, opts).wall;
const medianOf = (f: () => number, runs = RUNS) => median(Array.from({ length: runs }, f));
const cpuText = (xs: number[]) => (xs.every((x) => Number.isNaN(x)) ? '' : `, CPU ${ms(median(xs))}`);

function row(what: string, figure: string, target: string) {
  console.log(`${what.padEnd(58)} ${figure.padEnd(28)} goal: ${target}`);
}
const load = () => `load ${loadavg()[0]!.toFixed(1)}`;

// an sbatch without a Slurm that answers (no slurm.conf, no controller) gives no column rather than a crash
const SLURM =
  spawnSync('sh', ['-c', 'command -v sbatch && squeue -h -o %i'], { encoding: 'utf8', stdio: 'ignore' }).status === 0;

async function main() {
  const pool = await TestPool.start({
    NUM_CPUS: '128',
    MEMORY: '262144',
    UPDATE_INTERVAL: '5',
    NEGOTIATOR_INTERVAL: '10',
  });
  const base = process.env.BENCH_BASE;
  /** The builds measured: this one, and with BENCH_BASE the other, labelled in each row. */
  const builds: Array<{ label: string; dist: string; launcher?: Launcher }> = base
    ? [
        { label: 'base: ', dist: base },
        { label: 'this: ', dist: DIST },
      ]
    : [{ label: '', dist: DIST }];
  /** The launcher's runs (the job-path and dq rows), its agent started before they are measured. */
  const launcher = process.env.BENCH_LAUNCHER === '0' ? undefined : new Launcher(pool);
  if (launcher) {
    await launcher.waitForAgent();
    builds.push({ label: 'installed: ', dist: DIST, launcher });
  }
  const cli = (name: string, dist = DIST) => join(dist, 'cli', `${name}.js`);
  const node = process.execPath;
  const env = pool.env;
  const cwd = pool.work;
  /** The program and arguments that run command `name` of build `b`, and its environment. */
  const commandLine = (b: (typeof builds)[number], name: string, args: string[]) =>
    b.launcher
      ? ([join(b.launcher.bin, name), args, b.launcher.env] as const)
      : ([node, [cli(name, b.dist), ...args], env] as const);
  /** One dsubmit: its cluster, wall and CPU time. */
  const submitted = (text: string, extra: string[] = [], b = builds[0]!) => {
    const [file, args, e] = commandLine(b, 'dsubmit', [...extra, '-']);
    const r = measured(file, [...args], { env: e, cwd, input: text });
    return { cluster: Number(/cluster (\d+)/.exec(r.stdout)?.[1]), wall: r.wall, cpu: r.cpu };
  };
  const dsubmit = (text: string, extra: string[] = [], b = builds[0]!) => submitted(text, extra, b).cluster;
  /** `dq ARGS` run by every build, alternating (once, when first asked); `b`'s median wall and CPU. */
  const queries = new Map<string, Map<string, { wall: number[]; cpu: number[] }>>();
  const alternated = (b: (typeof builds)[number], args: string[]) => {
    const what = args.join(' ');
    if (!queries.has(what)) {
      const runs = new Map(builds.map((x) => [x.label, { wall: [] as number[], cpu: [] as number[] }]));
      for (let i = 0; i < RUNS; i++) {
        for (const x of builds) {
          const [file, a, e] = commandLine(x, 'dq', args);
          const r = measured(file, [...a], { env: e, cwd });
          runs.get(x.label)!.wall.push(r.wall);
          runs.get(x.label)!.cpu.push(r.cpu);
        }
      }
      queries.set(what, runs);
    }
    const r = queries.get(what)!.get(b.label)!;
    return `${ms(median(r.wall))}${cpuText(r.cpu)}`;
  };
  try {
    console.log(
      `dsched on ${process.execPath} ${process.version}; ${RUNS} runs per short command, medians${base ? `; A/B with ${base}` : ''}; ${load()}`,
    );

    // cold start of a command against node itself
    const bare = medianOf(() => timed(node, ['-e', '0']));
    for (const b of builds) {
      const [file, args, e] = commandLine(b, 'dq', ['--help']);
      const help = medianOf(() => timed(file, [...args], { env: e }));
      row(
        `${b.label}cold start: dq --help (node -e 0)`,
        `${ms(help)} (${ms(bare)}): ${(help / bare).toFixed(2)}×`,
        '≤ 1.7× node -e 0',
      );
    }

    // memory of the execute host's daemons, idle (master, startd and spawner of this personal pool)
    await sleep(2000);
    // (per running job: bench/memory.ts)
    const execHost = total(daemonMemory(pool.home, EXECUTE_HOST).values());
    row(
      'memory: master + startd + spawner, idle',
      `${(execHost.rss / 1024).toFixed(0)} MB (host: ${(execHost.host / 1024).toFixed(0)} MB)`,
      '≤ 60 MB',
    );

    // submit → start on an idle pool, the submit command included: the job writes the time it started
    const lat = builds.map(() => ({ start: [] as number[], wall: [] as number[], cpu: [] as number[] }));
    for (let i = 0; i < N('BENCH_LAT', 20); i++) {
      for (const [k, b] of builds.entries()) {
        const out = `lat-${i}-${k}.out`;
        const t0 = Date.now() * 1e6;
        const r = submitted(`executable = /bin/date\narguments = +%s%N\noutput = ${out}\nqueue\n`, [], b);
        let started = NaN;
        for (const deadline = Date.now() + 60_000; Date.now() < deadline && !(started > 0); await sleep(5)) {
          try {
            started = Number(readFileSync(join(cwd, out), 'utf8').trim());
          } catch {
            /* not yet */
          }
        }
        lat[k]!.start.push((started - t0) / 1e6);
        lat[k]!.wall.push(r.wall);
        lat[k]!.cpu.push(r.cpu);
      }
    }
    for (const [k, b] of builds.entries())
      row(
        `${b.label}submit → job start, dsubmit included, idle pool`,
        `median ${ms(median(lat[k]!.start))} (dsubmit ${ms(median(lat[k]!.wall))}${cpuText(lat[k]!.cpu)})`,
        'median ≤ 100 ms',
      );

    // end to end: 1000 × /bin/true in one submission on 128 slots, the submit command included
    {
      const n = N('BENCH_E2E', 1000);
      // the end is seen over gRPC (a count the schedd keeps): a dq command every few ms would load the machine
      const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token(userInfo().username)));
      const left = async () => {
        for await (const page of schedd.queryPages({
          ids: [],
          owners: [],
          constraint: '',
          projection: [],
          history: false,
          limit: 0,
          counts_only: true,
        }))
          if (page.last && page.matched) return page.matched.idle + page.matched.running;
        return -1;
      };
      const rounds = N('BENCH_E2E_ROUNDS', 1);
      /** Each run's rate, per build (and Slurm's under "slurm"). */
      const rates = new Map<string, number[]>();
      const record = (label: string, rate: number) => rates.set(label, [...(rates.get(label) ?? []), rate]);
      // the daemons' own CPU time, as Slurm's below (the jobs' is in neither)
      const daemons = daemonPids(pool.home, ALL_DAEMONS).map((d) => Number(d.pid));
      const dschedRun = async (b: (typeof builds)[number]) => {
        const cpu0 = cpuOf(daemons);
        const t0 = performance.now();
        dsubmit(`executable = /bin/true\nqueue ${n}\n`, [], b);
        for (const deadline = Date.now() + 600_000; Date.now() < deadline && (await left()) !== 0;) await sleep(10);
        const t = performance.now() - t0;
        record(b.label, n / (t / 1000));
        row(
          `${b.label}end to end: ${n} × /bin/true in one submission, 128 slots`,
          `${(n / (t / 1000)).toFixed(0)} jobs/s (${ms(t)}, daemons' CPU ${ms(cpuOf(daemons) - cpu0)}), ${load()}`,
          '≥ 6× Slurm (≥ 380 jobs/s)',
        );
      };
      const slurmRun = async () => {
        const r = await slurmEndToEnd(n);
        record('slurm', r.rate);
        row(
          `slurm: end to end, ${n} × /bin/true (sbatch --array)`,
          `${r.rate.toFixed(0)} jobs/s (${ms(r.wall)}, slurmctld + slurmd CPU ${ms(r.cpu)}), ${load()}`,
          '— (slurmstepd CPU not counted)',
        );
      };
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 ? [...builds].reverse() : builds;
        if (SLURM && round % 2) await slurmRun();
        for (const b of order) await dschedRun(b);
        if (SLURM && !(round % 2)) await slurmRun();
      }
      if (rounds > 1 || SLURM)
        for (const b of builds) {
          const r = median(rates.get(b.label)!);
          const slurm = rates.has('slurm') ? median(rates.get('slurm')!) : NaN;
          row(
            `${b.label}end to end, median of ${rounds} run(s)`,
            `${r.toFixed(0)} jobs/s${SLURM ? `; Slurm ${slurm.toFixed(0)}: ${(r / slurm).toFixed(1)}×` : ''}`,
            '≥ 6× Slurm in the same run',
          );
        }
      schedd.close();
    }

    // 100 chained submit commands (each depends on the one before), held so that nothing runs meanwhile
    {
      const n = N('BENCH_CHAIN', 100);
      // A B B A: a load that grows or falls during the run weighs on both builds alike
      for (const b of builds.length > 1 ? [...builds, ...[...builds].reverse()] : builds) {
        const t0 = performance.now();
        let cpu = 0;
        const first = submitted('executable = /bin/true\nhold = true\nqueue\n', [], b);
        let prev = first.cluster;
        cpu += first.cpu;
        for (let i = 1; i < n; i++) {
          const r = submitted('executable = /bin/true\nqueue\n', ['-W', `depend=afterok:${prev}`], b);
          prev = r.cluster;
          cpu += r.cpu;
        }
        row(
          `${b.label}${n} chained submit commands (-W depend=afterok)`,
          `${ms(performance.now() - t0)}${Number.isNaN(cpu) ? '' : ` (CPU ${ms(cpu)})`}`,
          '≤ 8 s',
        );
        execFileSync(node, [cli('drm'), '-all'], { env, cwd });
      }
    }

    // ids of a 10,000-job queue
    {
      const n = N('BENCH_IDS', 10_000);
      const cluster = dsubmit(`executable = /bin/true\nhold = true\nqueue ${n}\n`);
      for (const b of builds) {
        const r = alternated(b, ['-af', 'ClusterId']);
        row(`${b.label}list the ids of a ${n}-job queue (dq -af ClusterId)`, r, '≤ 1.5× squeue');
      }
      const rm = timed(node, [cli('drm'), String(cluster)], { env, cwd });
      row(`remove ${n} jobs (drm CLUSTER)`, ms(rm), '≤ 0.5 s');
    }

    // summary of a large queue
    {
      const n = N('BENCH_TOTALS', 100_000);
      dsubmit(`executable = /bin/true\nhold = true\nqueue ${n}\n`);
      for (const b of builds) {
        const r = alternated(b, ['-totals']);
        row(`${b.label}summary of ${n} queued jobs (dq -totals)`, r, '≤ 200 ms');
      }
      execFileSync(node, [cli('drm'), '-all'], { env, cwd });
    }
  } finally {
    launcher?.close();
    await pool.stop();
    rmSync(cpuFile, { force: true });
  }

  if (SLURM) {
    const bare = medianOf(() => timed('squeue', ['--help']));
    row('slurm: cold start of squeue --help', ms(bare), '—');
    await slurmJobPath();
  } else {
    console.log('(no sbatch on PATH, or no Slurm answers squeue: no Slurm column)');
  }
}

/** The Slurm in use (SLURM_CONF's): `sbatch ARGS` run in `dir`, its job id. */
const sbatchIn = (dir: string, args: string[]) =>
  execFileSync('sbatch', ['--parsable', '--chdir', dir, '--output', '/dev/null', ...args], { encoding: 'utf8' })
    .trim()
    .split(';')[0]!;
/** Whether job `id` (or a task of array `id`) is pending or running; a job already purged is not. */
const queued = (id: string) => {
  const r = spawnSync('squeue', ['-h', '-j', id, '-o', '%i'], { encoding: 'utf8' });
  if (r.status !== 0 && !/Invalid job id/.test(r.stderr)) throw new Error(`squeue failed: ${r.stderr}`);
  return r.status === 0 && r.stdout.trim() !== '';
};
/** The pids of bench/slurm-pool.sh's daemons (its pid files are beside $SLURM_CONF); none for another Slurm. */
function slurmPids(...names: string[]) {
  const conf = process.env.SLURM_CONF;
  if (!conf) return [];
  return names.flatMap((name) => {
    try {
      return [Number(readFileSync(join(dirname(conf), `${name}.pid`), 'utf8').trim())];
    } catch {
      return [];
    }
  });
}
/** CPU time (user + sys) of processes `pids` so far, in ms (NaN when there are none). */
const cpuOf = (pids: number[]) =>
  pids.length
    ? pids.reduce((a, pid) => {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return a + ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100 a second)
      }, 0)
    : NaN;

/** Slurm's end-to-end run: a `n`-task array of /bin/true, submitted until the last task has left the queue. */
async function slurmEndToEnd(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-slurm-'));
  try {
    const daemons = slurmPids('slurmctld', 'slurmd');
    const cpu0 = cpuOf(daemons);
    const t0 = performance.now();
    const id = sbatchIn(dir, [`--array=1-${n}`, '--wrap', '/bin/true']);
    for (const deadline = Date.now() + 600_000; Date.now() < deadline && queued(id);) await sleep(20);
    const wall = performance.now() - t0;
    return { rate: n / (wall / 1000), wall, cpu: cpuOf(daemons) - cpu0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The other Slurm rows (the jobs run in a temporary directory). */
async function slurmJobPath() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-slurm-'));
  const sbatch = (args: string[]) => sbatchIn(dir, args);
  try {
    const idle = slurmPids('slurmd', 'munged');
    if (idle.length) {
      const rss = idle.reduce(
        (a, pid) => a + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]),
        0,
      );
      row('slurm: memory: slurmd + munged, idle', `${(rss / 1024).toFixed(0)} MB`, '—');
    }

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
    row('slurm: submit → job start, sbatch included', `median ${ms(median(lat))}, ${load()}`, '—');

    const chain = N('BENCH_CHAIN', 100);
    const c0 = performance.now();
    let prev = sbatch(['--hold', '--wrap', '/bin/true']);
    const first = prev;
    for (let i = 1; i < chain; i++) prev = sbatch([`--dependency=afterok:${prev}`, '--wrap', '/bin/true']);
    row(`slurm: ${chain} chained sbatch (--dependency=afterok)`, `${ms(performance.now() - c0)}, ${load()}`, '—');
    spawnSync('scancel', [first]); // the rest can never run: Slurm cancels or leaves them pending
    spawnSync('scancel', ['--name', 'wrap', '--state', 'PENDING']);

    // ids of a queue as large as dq's: a held array, listed one task a line
    const n = N('BENCH_IDS', 10_000);
    const array = sbatch(['--hold', `--array=1-${n}`, '--wrap', '/bin/true']);
    const ids = medianOf(() => timed('squeue', ['-h', '-r', '-o', '%i']));
    row(`slurm: list the ids of a ${n}-job queue (squeue -h -r -o %i)`, `${ms(ids)}, ${load()}`, '—');
    row(`slurm: remove ${n} jobs (scancel ARRAY)`, `${ms(timed('scancel', [array]))}, ${load()}`, '—');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
