// dsubmit's memory and CPU for a large `queue N` on a real personal pool, run on demand:
//   node --import tsx bench/submit-memory.ts [--jobs 1000000]
// Two submissions, held (nothing runs), each removed after: procs with nothing of their own (they travel as a
// count) and procs with an attribute of their own (`arguments = $(Process)`: they travel in pieces). Each row:
// dsubmit's wall time, its user+system CPU and peak RSS (/usr/bin/time), and the schedd's CPU for it. For
// before/after figures, run this file from a checkout of the older commit too (built), alternating.
// Nothing is asserted.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

const i = process.argv.indexOf('--jobs');
const JOBS = Number(i > 0 ? process.argv[i + 1] : 1_000_000);

/** CPU seconds (user + system) a process has used so far. */
function cpuSec(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function timed(pool: TestPool, cmd: string, args: string[], input: string): Promise<{ row: string; out: string }> {
  const schedd = pool.daemonPid('schedd');
  const c0 = cpuSec(schedd);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', '@@time %U %S %M', process.execPath, join(DIST, 'cli', `${cmd}.js`), ...args],
      { cwd: pool.work, env: pool.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const [user, sys, kb] = (/@@time (\S+) (\S+) (\S+)/.exec(err)?.slice(1) ?? ['0', '0', '0']).map(Number);
      resolve({
        out,
        row: `${ms.toFixed(0)} ms, ${(user! + sys!).toFixed(2)} s CPU, peak RSS ${(kb! / 1024).toFixed(0)} MB; schedd ${(cpuSec(schedd) - c0).toFixed(2)} s CPU (exit ${code}${code ? `: ${err.split('@@time')[0]!.trim().slice(0, 300)}` : ''})`,
      });
    });
    child.stdin.end(input);
  });
}

const pool = await TestPool.start({ UPDATE_INTERVAL: '30', NEGOTIATOR_INTERVAL: '60' });
try {
  console.log(`dsubmit of queue ${JOBS}, held`);
  for (const [what, extra] of [
    ['procs with nothing of their own', ''],
    ['procs with arguments = $(Process)', 'arguments = $(Process)\n'],
  ] as const) {
    const r = await timed(
      pool,
      'dsubmit',
      ['-a', 'hold = true', '-'],
      `executable = /bin/true\n${extra}queue ${JOBS}\n`,
    );
    console.log(`${what}: ${r.row}`);
    const cluster = /cluster (\d+)/.exec(r.out)?.[1];
    if (cluster) await timed(pool, 'drm', [cluster], '');
  }
} finally {
  await pool.stop();
}
