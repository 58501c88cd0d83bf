// The job spawner alone (run on demand, as root: `node --import tsx bench/spawner.ts`): N /bin/true jobs
// started through it as the startd starts them (each in its own process family, its end journaled), and the
// CPU time the spawner spent per job (user + system, its jobs left out), its peak RSS, and the wall time.
// The process started is the spawner's keeper (which only waits): the spawner is the jobs' parent, named in
// each `started` reply; the keeper's CPU time is added (a build without a keeper has none).
// BENCH_JOBS (1000) sets the size, BENCH_PARALLEL (32) how many run at once; BENCH_SPAWNER=PATH runs another
// build of the spawner (A/B against the one in dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProcTracker } from '../daemons/startd/proc-family.js';
import { encodeRequest, SPAWNER_PATH, type SpawnerReply } from '../daemons/startd/spawner-protocol.js';

const N = Number(process.env.BENCH_JOBS ?? 1000);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 32);
const path = process.env.BENCH_SPAWNER ?? SPAWNER_PATH;

/** user + system CPU ms of a process, and its peak RSS in KiB */
function usage(pid: number): { cpu: number; peakKiB: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const peak = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: ((Number(f[11]) + Number(f[12])) * 1000) / 100, peakKiB: Number(peak?.[1] ?? 0) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'dsched-bench-spawner-'));
  const tracker = ProcTracker.setup(process.env.BENCH_TRACKING ?? 'auto', 'dsched-bench', `bench_${process.pid}`);
  const child = spawn(path, [dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const families = new Map<string, ReturnType<ProcTracker['create']>>();
  let forker = 0;
  let sent = 0;
  let ended = 0;
  const t0 = Date.now();
  const startOne = () => {
    const id = String(++sent);
    const family = tracker.create(`job${id}`, process.getuid!());
    families.set(id, family);
    const note = { addr: 'localhost:1', claim: `claim${id}`, cluster: 1, proc: sent };
    child.stdin!.write(
      encodeRequest({
        op: 'start',
        id,
        exe: '/bin/true',
        argv: [],
        cwd: dir,
        env: { PATH: '/usr/bin:/bin', ...family.env() },
        stdin: '/dev/null',
        stdout: join(dir, 'out'),
        stderr: join(dir, 'out'),
        sandbox: join(dir, `sandbox${id}`),
        adText: 'ClusterId = 1\nProcId = 0\n',
        family: family.ref,
        journal: { run: `run${id}`, note },
      }),
    );
  };
  const done = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as SpawnerReply;
      if (r.event === 'started') return void (forker ||= r.parent);
      if (r.event === 'failed') throw new Error(`job ${r.id} failed: ${r.message}`);
      void families.get(r.id)?.remove();
      families.delete(r.id);
      child.stdin!.write(encodeRequest({ op: 'journaled', runs: [`run${r.id}`] }));
      if (++ended === N) resolve();
      else if (sent < N) startOne();
    });
  });
  for (let i = 0; i < Math.min(PARALLEL, N); i++) startOne();
  await done;
  const wall = Date.now() - t0;
  const u = usage(forker || child.pid!);
  const keeper = forker && forker !== child.pid ? usage(child.pid!) : { cpu: 0, peakKiB: 0 };
  u.cpu += keeper.cpu;
  console.log(
    `spawner ${path} (${tracker.method}): ${N} × /bin/true, ${PARALLEL} at once — CPU ${(u.cpu / N).toFixed(3)} ms per job, peak RSS ${(u.peakKiB / 1024).toFixed(1)} MB, ${Math.round((N * 1000) / wall)} jobs/s`,
  );
  child.stdin!.end();
  await new Promise((r) => child.once('close', r));
  tracker.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
