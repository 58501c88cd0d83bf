// drelease, dhold and drm of one whole cluster on a real personal pool, run on demand:
//   node --import tsx bench/whole-cluster-actions.ts [--jobs 100000]
// The cluster is submitted held with `requirements = false` (released, nothing can run), then released,
// held and removed whole. Each row: the command's wall time and the schedd's CPU for it. For before/after
// figures, run this file from a checkout of the older commit too (built), alternating. Nothing is asserted.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

const i = process.argv.indexOf('--jobs');
const JOBS = Number(i > 0 ? process.argv[i + 1] : 100_000);

/** CPU seconds (user + system) a process has used so far. */
function cpuSec(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function run(pool: TestPool, cmd: string, args: string[], input = ''): Promise<string> {
  const schedd = pool.daemonPid('schedd');
  const c0 = cpuSec(schedd);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], {
      cwd: pool.work,
      env: pool.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out.length < 200 ? (out += d) : undefined));
    child.stderr.on('data', (d) => (out.length < 200 ? (out += d) : undefined));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      resolve(
        `${cmd} ${args.join(' ')}: ${ms.toFixed(0)} ms, schedd ${(cpuSec(schedd) - c0).toFixed(2)} s CPU (exit ${code}: ${out.trim().split('\n')[0]})`,
      );
    });
    child.stdin.end(input);
  });
}

const pool = await TestPool.start({ UPDATE_INTERVAL: '30', NEGOTIATOR_INTERVAL: '60' });
try {
  console.log(`whole-cluster actions over ${JOBS} jobs`);
  const submitted = await run(
    pool,
    'dsubmit',
    ['-a', 'hold = true', '-a', 'requirements = false', '-'],
    `executable = /bin/true\nqueue ${JOBS}\n`,
  );
  console.log(submitted);
  const cluster = /cluster (\d+)/.exec(submitted)?.[1] ?? '1';
  for (const cmd of ['drelease', 'dhold', 'drm']) console.log(await run(pool, cmd, [cluster]));
} finally {
  await pool.stop();
}
