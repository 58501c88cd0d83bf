// Memory of the daemons on a real personal pool (`node dist/...`): the execute host's three processes
// (master, startd, spawner) idle, and what each running job adds across all daemons. Run on demand with
// `node --import tsx bench/memory.ts` (or `npm run bench memory`); nothing is asserted.
// BENCH_JOBS (128): sleeping jobs for the per-job figure, on a startd with that many cpus.
// RSS counts the node binary's shared pages in every process (about 35 MB each); "private" is what a process
// has to itself, and "host" is the pages the processes take together (their private pages, the shared ones once).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, sleep, TestPool } from '../test/integration/harness/pool.js';

export interface Memory {
  rss: number;
  private: number;
  shared: number;
}

/** KiB of each process of the pool at `home` whose command line runs one of the scripts (dist/daemons/<script>). */
export function daemonMemory(home: string, scripts: string[]): Map<string, Memory> {
  const out = new Map<string, Memory>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const script = scripts.find((s) => argv.includes(join(DIST, 'daemons', s)));
      if (!script || !readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`DSCHED_HOME=${home}`))
        continue;
      const field = (re: RegExp, text: string) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const m = out.get(script) ?? { rss: 0, private: 0, shared: 0 };
      m.rss += field(/^Rss:\s+(\d+)/gm, rollup);
      m.private += field(/^Private_(?:Clean|Dirty):\s+(\d+)/gm, rollup);
      m.shared = Math.max(m.shared, field(/^Shared_(?:Clean|Dirty):\s+(\d+)/gm, rollup));
      out.set(script, m);
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

export const EXECUTE_HOST = ['master/main.js', 'startd/main.js', 'startd/dsched-spawner'];
export const ALL_DAEMONS = [...EXECUTE_HOST, 'collector/main.js', 'negotiator/main.js', 'schedd/main.js'];

/** Totals over processes: RSS summed, private summed, shared pages once (the largest set of them). */
export function total(ms: Iterable<Memory>): Memory & { host: number } {
  const t = { rss: 0, private: 0, shared: 0 };
  for (const m of ms) {
    t.rss += m.rss;
    t.private += m.private;
    t.shared = Math.max(t.shared, m.shared);
  }
  return { ...t, host: t.private + t.shared };
}

/** The median of a few samples a second apart: an idle daemon's heap still moves with its timers and GC. */
async function settled(home: string, scripts: string[], samples = 5): Promise<Map<string, Memory>> {
  const runs: Map<string, Memory>[] = [];
  for (let i = 0; i < samples; i++) {
    if (i) await sleep(1000);
    runs.push(daemonMemory(home, scripts));
  }
  const byTotal = [...runs].sort((a, b) => total(a.values()).rss - total(b.values()).rss);
  return byTotal[Math.floor(byTotal.length / 2)]!;
}

const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
function row(what: string, figure: string, target: string) {
  console.log(`${what.padEnd(58)} ${figure.padEnd(40)} goal: ${target}`);
}

async function main() {
  const jobs = Number(process.env.BENCH_JOBS ?? 128);
  const pool = await TestPool.start({
    NUM_CPUS: String(jobs),
    MEMORY: String(jobs * 64),
    UPDATE_INTERVAL: '5',
    NEGOTIATOR_INTERVAL: '2',
  });
  const cli = (name: string) => join(DIST, 'cli', `${name}.js`);
  const run = (name: string, args: string[], input?: string) =>
    execFileSync(process.execPath, [cli(name), ...args], { env: pool.env, cwd: pool.work, input, encoding: 'utf8' });
  try {
    console.log(`dsched on ${process.execPath} ${process.version}; a startd with ${jobs} cpus`);
    // idle: the startd has advertised its slot and nothing runs
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !run('dstatus', ['-af', 'Name']).trim();)
      await sleep(200);
    await sleep(3000);
    const idle = await settled(pool.home, ALL_DAEMONS);
    for (const s of EXECUTE_HOST) {
      const m = idle.get(s);
      if (m)
        row(
          `memory: ${s.replace('/main.js', '').replace('startd/dsched-spawner', 'spawner')}, idle`,
          `${mb(m.rss)} RSS, ${mb(m.private)} private`,
          '—',
        );
    }
    const host = total(EXECUTE_HOST.flatMap((s) => idle.get(s) ?? []));
    row('memory: master + startd + spawner, idle (RSS summed)', `${mb(host.rss)} (host: ${mb(host.host)})`, '≤ 60 MB');

    // per running job: the growth of every daemon's memory with `jobs` sleeping jobs running
    run('dsubmit', ['-'], `executable = /bin/sleep\narguments = 600\nrequest_memory = 32\nqueue ${jobs}\n`);
    let running = 0;
    for (const deadline = Date.now() + 300_000; Date.now() < deadline && running < jobs; await sleep(500)) {
      running = run('dq', ['-allusers', '-af', 'JobStatus'])
        .split('\n')
        .filter((l) => l.trim() === '2').length;
    }
    if (running < jobs) console.log(`(only ${running} of ${jobs} jobs started)`);
    await sleep(3000);
    const busy = await settled(pool.home, ALL_DAEMONS);
    const grow = (scripts: string[]) =>
      (total(scripts.flatMap((s) => busy.get(s) ?? [])).rss - total(scripts.flatMap((s) => idle.get(s) ?? [])).rss) /
      Math.max(1, running);
    row(`memory per running job, all daemons (${running} jobs)`, `${grow(ALL_DAEMONS).toFixed(0)} KiB`, '≤ 50 KiB');
    row(`memory per running job, master + startd + spawner`, `${grow(EXECUTE_HOST).toFixed(0)} KiB`, '—');
    run('drm', ['-all']);
  } finally {
    await pool.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
