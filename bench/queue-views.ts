// dq's tables over a big queue, A/B against another build, run on demand:
//   node --import tsx bench/queue-views.ts [--jobs 10000] [--rounds 5] [--before /path/to/other/dist]
// Starts a personal pool from this checkout's dist, queues --jobs held jobs, then runs each view with this
// build's dq and with --before's (default /work/main/dist, i.e. main), alternating, each under /usr/bin/time;
// prints the median user+system CPU seconds and peak RSS of each. Nothing is asserted.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

const flag = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const JOBS = Number(flag('jobs', '10000'));
const ROUNDS = Number(flag('rounds', '5'));
const BEFORE = flag('before', '/work/main/dist');
const VIEWS: Array<[string, string[]]> = [
  ['dq -nobatch', ['-nobatch', '-allusers']],
  ['dq (batches)', ['-allusers']],
  ['dq -af ClusterId', ['-allusers', '-af', 'ClusterId']],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const pool = await TestPool.start();
try {
  pool.file('held.sub', `executable = /bin/true\nhold = true\nqueue ${JOBS}\n`);
  await pool.submit('held.sub');
  const run = (dist: string, args: string[]) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, join(dist, 'cli', 'dq.js'), ...args], {
      env: pool.env,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const [u, s, m] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    return { cpu: u! + s!, rss: m! };
  };
  for (const [name, args] of VIEWS) {
    const a: Array<{ cpu: number; rss: number }> = [];
    const b: Array<{ cpu: number; rss: number }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      b.push(run(BEFORE, args));
      a.push(run(DIST, args));
    }
    const fmt = (xs: typeof a) =>
      `${median(xs.map((x) => x.cpu)).toFixed(2)} s CPU, ${(median(xs.map((x) => x.rss)) / 1024).toFixed(0)} MB`;
    console.log(`${name} over ${JOBS} jobs: before ${fmt(b)}; this build ${fmt(a)}`);
  }
} finally {
  await pool.stop();
}
