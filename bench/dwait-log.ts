// dwait on the event log of a big cluster right after its drm, on a real personal pool, run on demand:
//   node --import tsx bench/dwait-log.ts [--jobs 1000000] [--before /path/to/older/dist]
// It submits --jobs held jobs logging to one file, removes them, and at once runs `dwait LOG` (and `dq -totals`)
// while the removal moves them to history; then, on the settled queue, `dwait LOG` of this build and, with
// --before, of an older build, alternating (two runs each). For each: wall time, CPU, peak RSS (/usr/bin/time),
// exit code, output lines, and the abort events in the log when it returned. Nothing is asserted.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const JOBS = Number(arg('jobs') ?? 1_000_000);
const BEFORE = arg('before');

/** One CLI of `dist` under /usr/bin/time: its wall time, CPU, peak RSS, exit code and output lines. */
function timed(pool: TestPool, dist: string, cmd: string, args: string[]): Promise<string> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', process.execPath, join(dist, 'cli', `${cmd}.js`), ...args], {
    cwd: pool.work,
    env: pool.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    for (const c of d) if (c === 10) lines++;
  });
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const [user, sys, kb] = err.trim().split('\n').at(-1)!.split(' ').map(Number);
      const aborts = readFileSync(join(pool.work, 'big.log'), 'utf8').split('\n009 ').length - 1;
      resolve(
        `${cmd} ${args.join(' ')}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(user! + sys!).toFixed(1)} s CPU, ` +
          `peak ${(kb! / 1024).toFixed(0)} MB, exit ${code}, ${lines} lines, ${aborts} abort events in the log at its end`,
      );
    }),
  );
}

const pool = await TestPool.start();
try {
  pool.file('big.sub', `executable = /bin/true\nhold = true\nlog = big.log\nqueue ${JOBS}\n`);
  const cluster = await pool.submit('big.sub', [], { timeoutMs: 3_600_000 });
  const rm = await pool.run('drm', [String(cluster)], { timeoutMs: 600_000 });
  console.log(`drm: exit ${rm.code} ${rm.stdout.trim()}`);
  const [wait, totals] = await Promise.all([
    timed(pool, DIST, 'dwait', ['big.log', '-wait', '3600']),
    pool.run('dq', ['-totals'], { timeoutMs: 600_000 }),
  ]);
  console.log(`right after the drm: ${/Total for query: .*/.exec(totals.stdout)?.[0]}`);
  console.log(`right after the drm: ${wait}`);
  for (let i = 0; i < 2; i++)
    for (const [name, dist] of [['this build', DIST], ...(BEFORE ? [['before', BEFORE]] : [])] as const)
      console.log(`settled, ${name}: ${await timed(pool, dist, 'dwait', ['big.log', '-wait', '3600'])}`);
} finally {
  await pool.stop();
}
