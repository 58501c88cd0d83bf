// The web daemon over a big queue (on demand: `node --import tsx bench/web.ts`; BENCH_JOBS=100000 and
// BENCH_SSE=100 by default). On a real personal pool with BENCH_JOBS held jobs (nothing runs, the pool is idle):
//  - the queue page (batch view; the job list half-way through; the job list with a constraint, which the schedd
//    evaluates in windows of ids for at most a second per page) rendered in headless chromium: from
//    navigation to the page marking itself ready, median and worst of 5 (skipped without /usr/bin/chromium)
//  - GET /metrics: median and worst of 20, and the web daemon's CPU time for them
//  - the schedd's CPU over 20 s windows with no SSE client and with BENCH_SSE clients following /v1/events,
//    alternated twice (A/B), as a share of one core
// Figures are printed; nothing is asserted.
import { existsSync, readFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { TestPool } from '../test/integration/harness/pool.js';
import { CHROMIUM, launchBrowser, openPage } from '../test/integration/harness/browser.js';
import { web, webAddress } from '../test/integration/harness/web.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const SSE = Number(process.env.BENCH_SSE ?? 100);

/** User + system CPU seconds of a process so far (/proc/PID/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

const pool = await TestPool.start();
try {
  pool.file('held.sub', `executable = /bin/true\nhold = true\nqueue ${JOBS}\n`);
  let t0 = performance.now();
  await pool.submit('held.sub', [], { timeoutMs: 600_000 });
  console.log(`submitted ${JOBS} held jobs in ${ms(performance.now() - t0)}`);
  const total = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('dsched_jobs{'))
      .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
  await pool.waitFor(
    'the web daemon to see the queue',
    async () => total((await web(pool, '/metrics')).text) === JOBS,
    600_000,
  );

  // ---- the queue page in a browser
  if (existsSync(CHROMIUM)) {
    const browser = await launchBrowser(() => {});
    const page = browser.page;
    for (const hash of [
      '#/queue',
      '#/queue?view=jobs&state=held&after=1.50000',
      `#/queue?view=jobs&constraint=${encodeURIComponent('ProcId >= 50000')}`,
    ]) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        await page.goto('about:blank');
        const start = performance.now();
        await openPage(page, `http://${webAddress(pool)}`, hash, 60_000);
        times.push(performance.now() - start);
      }
      console.log(
        `queue page ${decodeURIComponent(hash)} over ${JOBS} jobs: median ${ms(median(times))}, worst ${ms(Math.max(...times))}`,
      );
    }
    await browser.close();
  } else console.log(`queue page: skipped (no ${CHROMIUM})`);

  // ---- /metrics
  const webPid = pool.daemonPid('web');
  const times: number[] = [];
  const cpu0 = cpuSeconds(webPid);
  for (let i = 0; i < 20; i++) {
    t0 = performance.now();
    const r = await web(pool, '/metrics');
    times.push(performance.now() - t0);
    if (total(r.text) !== JOBS) throw new Error('metrics lost jobs');
  }
  console.log(
    `/metrics at ${JOBS} jobs: median ${ms(median(times))}, worst ${ms(Math.max(...times))}, web daemon CPU ${ms(((cpuSeconds(webPid) - cpu0) / 20) * 1000)} per scrape`,
  );

  // ---- SSE clients against the schedd's CPU, A/B
  const schedd = pool.daemonPid('schedd');
  const [host, port] = webAddress(pool).split(':') as [string, string];
  const window = async (clients: number) => {
    const open: ClientRequest[] = [];
    for (let i = 0; i < clients; i++) {
      const req = request({ host, port: Number(port), path: '/v1/events' }, (res) => res.resume());
      req.on('error', () => {});
      req.end();
      open.push(req);
    }
    await sleep(2000); // connected
    const c0 = cpuSeconds(schedd);
    const w0 = performance.now();
    await sleep(20_000);
    const share = (cpuSeconds(schedd) - c0) / ((performance.now() - w0) / 1000);
    for (const r of open) r.destroy();
    await sleep(1000);
    return share;
  };
  for (let round = 1; round <= 2; round++) {
    const a = await window(0);
    const b = await window(SSE);
    console.log(
      `schedd CPU on the idle pool, round ${round}: ${(a * 100).toFixed(2)} % of a core with no SSE client, ${(b * 100).toFixed(2)} % with ${SSE}`,
    );
  }
} finally {
  await pool.stop();
}
