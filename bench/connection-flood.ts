// A local user (uid 65534) holding many plain TCP connections to the schedd of a root pool, run on demand as root:
//   node --import tsx bench/connection-flood.ts [--connections 21000]
// It prints, once the schedd has taken what it takes of them: the schedd's open files and RSS, then root's
// `dq -totals` and `dsubmit` (exit code and milliseconds) and how long a job takes to end. For before/after
// figures, run this file from a checkout of the older commit too (built), alternating. Nothing is asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPool } from '../test/integration/harness/pool.js';

const i = process.argv.indexOf('--connections');
const N = Number(i > 0 ? process.argv[i + 1] : 21_000);
const PER_PROCESS = 9000;

const pool = await TestPool.start();
const flooders: ChildProcess[] = [];
try {
  const pid = pool.daemonPid('schedd');
  const [host, port] = [
    pool.daemonAddress('schedd').replace(/:\d+$/, ''),
    Number(pool.daemonAddress('schedd').split(':').pop()),
  ];
  const script = join(pool.work, 'flood.mjs');
  writeFileSync(
    script,
    `import { connect } from 'node:net';
const n = Number(process.argv[2]); const held = []; let done = 0;
const one = () => { if (++done === n) console.log('ready'); };
for (let i = 0; i < n; i++) { const s = connect({ host: ${JSON.stringify(host)}, port: ${port} }, one); s.on('error', one); held.push(s); }
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`,
  );
  for (let left = N; left > 0; left -= PER_PROCESS) {
    const c = spawn(process.execPath, [script, String(Math.min(PER_PROCESS, left))], {
      uid: 65534,
      gid: 65534,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    flooders.push(c);
    await new Promise((r) => c.stdout!.once('data', r));
  }
  // the schedd accepts what is waiting: look until its open files stop changing
  for (let last = -1; ;) {
    await new Promise((r) => setTimeout(r, 2000));
    const n = readdirSync(`/proc/${pid}/fd`).length;
    if (n === last) break;
    last = n;
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const t0 = performance.now();
  const q = await pool.run('dq', ['-totals']);
  const t1 = performance.now();
  const s = await pool.run('dsubmit', [pool.file('m.sub', 'executable = /bin/true\nqueue\n')]);
  const t2 = performance.now();
  let jobEnded = 'not submitted';
  const cluster = Number(/cluster (\d+)/.exec(s.stdout)?.[1]);
  if (s.code === 0)
    jobEnded = await pool.waitForHistory(cluster, 1).then(
      () => `${Math.round(performance.now() - t2)} ms`,
      (e: Error) => `not ended: ${e.message.split('\n')[0]}`,
    );
  console.log(
    JSON.stringify({
      connections: N,
      scheddOpenFiles: readdirSync(`/proc/${pid}/fd`).length,
      scheddRssMb: Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024),
      dq: { code: q.code, ms: Math.round(t1 - t0), error: q.stderr.trim().slice(0, 160) },
      dsubmit: { code: s.code, ms: Math.round(t2 - t1), error: s.stderr.trim().slice(0, 160) },
      jobEnded,
    }),
  );
} finally {
  for (const c of flooders) c.stdin!.end();
  await pool.stop();
}
