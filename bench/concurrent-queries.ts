// Many readers of one queue, run on demand:
//   node --import tsx bench/concurrent-queries.ts [--jobs 10000] [--clients 50] [--alone 5] [--rounds 1] [--cpu-prof DIR] [--schedd-only] [--window BYTES] [--raw-as-dq] [--no-launcher] [--no-node]
// (--cpu-prof: every daemon writes a CPU profile into DIR when the pool stops)
// On a personal pool holding --jobs held jobs it prints, end to end (real `dq -json` processes, each under
// /usr/bin/time for its own CPU):
//  - one `dq -json` alone: the median of --alone runs, its CPU and the schedd's
//  - --clients `dq -json` at once: the median and the slowest against one alone, whether every answer is
//    byte for byte the one alone gave, the schedd's CPU for all of them
//  - a `dsubmit` started with them: how much longer it took than alone
// and then the schedd's side alone, without 50 node processes fighting for the machine's cores: the same
// queries as raw gRPC streams from this process (the pages counted, never decoded), one alone and --clients
// at once, and a Submit RPC made meanwhile against one made alone.
// The end-to-end part runs first with the commands as node processes (node dist/cli/X.js; --no-node leaves
// it out), then as installed (the launcher, dist/cli/dcmd, through this user's command agent, warm;
// --no-launcher leaves it out). The installed commands are measured two ways: as a user runs
// `dq -json > out.N.json` (stdout a file the runner opens in the pool's folder, read and compared only after
// the clock stops: what a user waits for), and with stdout a pipe this runner reads (as before); the agent's
// CPU is printed beside the schedd's.
// A/B: BENCH_BASE=DIR names the dist/ of another build (say main's): its launcher and agent are measured too,
// on the same pool, alternating with this build's in each step (--rounds N repeats the steps, the order
// reversed every other round).
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNEL_OPTIONS } from '../lib/rpc/channel-options.js';
import { proto } from '../lib/rpc/proto.js';
import { channelCredentials } from '../lib/rpc/tls.js';
import { Launcher } from '../test/integration/harness/agent.js';
import { DIST, TestPool } from '../test/integration/harness/pool.js';

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 ? process.argv[i + 1] : def);
}
const JOBS = flag('jobs', 10_000);
const CLIENTS = flag('clients', 50);
const ALONE = flag('alone', 5);
const ROUNDS = flag('rounds', 1);
/** --window BYTES: the raw clients' HTTP/2 receive window (grpc-js's default is 64 KiB) */
const WINDOW = flag('window', 0) ? { 'grpc-node.flow_control_window': flag('window', 0) } : {};

/** CPU seconds (user + system) a process has used so far. */
function cpuSec(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** A CLI's exit code, wall time, own CPU seconds (user + system, from /usr/bin/time) and output. */
type Run = { code: number; ms: number; cpu: number; stdout: Buffer; stderr: string };

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const MARK = '@@time ';

/**
 * `cmd args` through `via` (a launcher, else as a node process). With `toFile` its stdout is that file (as
 * `> toFile`), opened here and read only after the command has ended (the returned stdout is then empty).
 */
function cli(pool: TestPool, cmd: string, args: string[], input = '', via?: Launcher, toFile?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [file, argv, env] = via
      ? [join(via.bin, cmd), args, via.env]
      : [process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], pool.env];
    const fd = toFile === undefined ? 'pipe' : openSync(toFile, 'w', 0o600);
    const t0 = performance.now();
    const opts = { cwd: pool.work, env, stdio: ['pipe', fd, 'pipe'] as Array<'pipe' | number> };
    const child = TIME ? spawn(TIME, ['-f', `${MARK}%U %S`, file, ...argv], opts) : spawn(file, argv, opts);
    if (typeof fd === 'number') closeSync(fd);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const at = stderr.lastIndexOf(MARK);
      const [user, sys] =
        at >= 0
          ? stderr
              .slice(at + MARK.length)
              .trim()
              .split(/\s+/)
              .map(Number)
          : [0, 0];
      // /usr/bin/time says "Command exited with non-zero status N" before its line
      stderr = (at >= 0 ? stderr.slice(0, at) : stderr).replace(/Command exited with non-zero status \d+\n?$/, '');
      resolve({ code: code ?? -1, ms, cpu: user! + sys!, stdout: Buffer.concat(out), stderr });
    });
    // a command that never reads its input (dq) may have ended before it is written
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ms = (x: number) => `${x.toFixed(0)} ms`;

const SUBMIT = ['-a', 'hold = true', '-'];
const ONE_JOB = 'executable = /bin/true\nqueue\n';

/** The schedd's side: raw streams and calls from this process, as root's token, nothing decoded. */
class RawSchedd {
  private readonly creds: grpc.ChannelCredentials;
  private readonly md = new grpc.Metadata();
  constructor(private readonly pool: TestPool) {
    const c = pool.creds(pool.token('root', true));
    this.creds = channelCredentials(c, { role: 'schedd' });
    this.md.set('authorization', `Bearer ${c.token!()}`);
  }
  /** A client of its own (its own connection, as each dq has). */
  private client(): grpc.Client {
    return new grpc.Client(this.pool.daemonAddress('schedd'), this.creds, {
      ...CHANNEL_OPTIONS,
      'grpc.ssl_target_name_override': 'dsched-schedd',
      'grpc.use_local_subchannel_pool': 1,
      ...WINDOW,
    });
  }
  private method(name: string) {
    return (proto().Schedd as unknown as { service: Record<string, grpc.MethodDefinition<object, unknown>> }).service[
      name
    ]!;
  }
  /** A QueryJobs stream to its end: wall ms and bytes of pages received. */
  query(req: object): Promise<{ ms: number; bytes: number }> {
    const c = this.client();
    const m = this.method('QueryJobs');
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      let bytes = 0;
      const s = c.makeServerStreamRequest(m.path, m.requestSerialize, (b: Buffer) => b.length, req, this.md);
      s.on('data', (n: number) => (bytes += n));
      s.on('error', (e) => (c.close(), reject(e)));
      s.on('end', () => (c.close(), resolve({ ms: performance.now() - t0, bytes })));
    });
  }
  /** NewCluster then Submit of one held job: wall ms. */
  async submit(): Promise<number> {
    const c = this.client();
    const call = <T>(name: string, req: object) =>
      new Promise<T>((resolve, reject) => {
        const m = this.method(name);
        c.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize as (b: Buffer) => T,
          req,
          this.md,
          (e, r) => (e ? reject(e) : resolve(r!)),
        );
      });
    await new Promise<void>((resolve, reject) =>
      c.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())),
    );
    const t0 = performance.now();
    const { cluster } = await call<{ cluster: number }>('NewCluster', {});
    await call('Submit', {
      cluster,
      cluster_attrs: { Cmd: '"/bin/true"', JobStatus: '5', Iwd: '"/tmp"', Owner: '"root"' },
      procs: [{ attrs: {} }],
    });
    const t = performance.now() - t0;
    c.close();
    return t;
  }
}

/** Real `dq -json` processes: alone, then many at once with a dsubmit. */
async function endToEnd(pool: TestPool, schedd: number) {
  console.log('commands as node processes:');
  const alone: Run[] = [];
  let aloneSchedd = 0;
  for (let i = 0; i < ALONE; i++) {
    const c0 = cpuSec(schedd);
    alone.push(await cli(pool, 'dq', ['-json']));
    aloneSchedd += cpuSec(schedd) - c0;
  }
  const one = median(alone.map((r) => r.ms));
  console.log(
    `dq -json alone: ${ms(one)} median of ${ALONE} (${(alone[0]!.stdout.length / 1e6).toFixed(1)} MB; CLI ${median(alone.map((r) => r.cpu)).toFixed(2)} s CPU, schedd ${(aloneSchedd / ALONE).toFixed(2)} s CPU)`,
  );
  const submits: number[] = [];
  for (let i = 0; i < 3; i++) submits.push((await cli(pool, 'dsubmit', SUBMIT, ONE_JOB)).ms);
  const submitAlone = median(submits);
  const c0 = cpuSec(schedd);
  const many = Array.from({ length: CLIENTS }, () => cli(pool, 'dq', ['-json']));
  const during = await cli(pool, 'dsubmit', SUBMIT, ONE_JOB);
  const done = await Promise.all(many);
  const manyCpu = cpuSec(schedd) - c0;
  const times = done.map((r) => r.ms);
  // with or without the job submitted meanwhile: at most two distinct answers
  const answers = new Set(done.map((r) => digest(r.stdout))).size;
  console.log(
    `${CLIENTS} × dq -json at once: median ${ms(median(times))}, slowest ${ms(Math.max(...times))} = ${(Math.max(...times) / one).toFixed(1)}× alone (goal ≤ 3×); ` +
      `CLI ${median(done.map((r) => r.cpu)).toFixed(2)} s CPU each (median), schedd ${manyCpu.toFixed(2)} s CPU for all; ` +
      `${done.filter((r) => r.code).length} failed, ${answers} distinct answers (≤ 2: with and without the job submitted meanwhile)`,
  );
  for (const r of done.filter((r) => r.code).slice(0, 3))
    console.log(`  a dq failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
  console.log(
    `dsubmit of one job: alone ${ms(submitAlone)}, started with the ${CLIENTS} queries ${ms(during.ms)}: delayed ${ms(during.ms - submitAlone)} (goal ≤ 100 ms)`,
  );
}

/** A build as installed: its launcher, with its own socket folder and agent. */
interface Build {
  label: string;
  launcher: Launcher;
}

/** CPU seconds a build's agents have used so far. */
function agentCpu(b: Build): number {
  let sum = 0;
  for (const pid of b.launcher.agents()) {
    try {
      sum += cpuSec(pid);
    } catch {
      /* ended meanwhile */
    }
  }
  return sum;
}

/** `fn`'s result and the CPU seconds the schedd and the build's agent used meanwhile. */
async function costOf<T>(schedd: number, b: Build, fn: () => Promise<T>) {
  const s0 = cpuSec(schedd);
  const a0 = agentCpu(b);
  const r = await fn();
  return { r, schedd: cpuSec(schedd) - s0, agent: agentCpu(b) - a0 };
}

const cpu = (x: number) => `${x.toFixed(2)} s`;

/**
 * The installed commands of each build, alternating step by step: one `dq -json` alone and --clients at once,
 * first each to a file of its own (as `dq -json > out.N.json`: the files are read only after the clock stops),
 * then through pipes this runner reads, with a dsubmit started among them.
 */
async function installed(pool: TestPool, schedd: number, builds: Build[]) {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...builds].reverse() : builds;
    const tag = (b: Build, how: string) => `${ROUNDS > 1 ? `[round ${round + 1}] ` : ''}installed, ${b.label}, ${how}:`;
    const alone = new Map<Build, { file: number; pipe: number; answer: string }>();
    // one alone, each way: the median of --alone runs
    for (const how of ['> file', 'pipe'] as const) {
      const runs = new Map(order.map((b) => [b, [] as Array<Awaited<ReturnType<typeof costOf<Run>>>>]));
      const path = join(pool.work, 'out.alone.json');
      for (let i = 0; i < ALONE; i++)
        for (const b of order)
          runs
            .get(b)!
            .push(
              await costOf(schedd, b, () =>
                cli(pool, 'dq', ['-json'], '', b.launcher, how === 'pipe' ? undefined : path),
              ),
            );
      for (const b of builds) {
        const rs = runs.get(b)!;
        const one = median(rs.map((x) => x.r.ms));
        const last = how === 'pipe' ? rs.at(-1)!.r.stdout : readFileSync(path);
        const a = alone.get(b) ?? { file: 0, pipe: 0, answer: '' };
        a[how === 'pipe' ? 'pipe' : 'file'] = one;
        a.answer ||= digest(last);
        alone.set(b, a);
        console.log(
          `${tag(b, how)} dq -json alone ${ms(one)} median of ${ALONE} (${(last.length / 1e6).toFixed(1)} MB; ` +
            `launcher ${cpu(median(rs.map((x) => x.r.cpu)))} CPU, agent ${cpu(median(rs.map((x) => x.agent)))}, schedd ${cpu(median(rs.map((x) => x.schedd)))}; ` +
            `${rs.filter((x) => x.r.code).length} failed)`,
        );
      }
      rmSync(path, { force: true });
    }
    // what starting that many processes at once costs on this machine now (under the same /usr/bin/time)
    const floor = await Promise.all(
      Array.from(
        { length: CLIENTS },
        () =>
          new Promise<number>((resolve) => {
            const t0 = performance.now();
            const p = TIME ? spawn(TIME, ['-f', '', '/bin/true']) : spawn('/bin/true');
            p.on('close', () => resolve(performance.now() - t0));
          }),
      ),
    );
    console.log(
      `${ROUNDS > 1 ? `[round ${round + 1}] ` : ''}${CLIENTS} × /bin/true at once (the floor): median ${ms(median(floor))}, slowest ${ms(Math.max(...floor))}`,
    );
    // at once, each to its own file: checked after the clock stopped
    for (const b of order) {
      const out = (i: number) => join(pool.work, `out.${i}.json`);
      const { r: done, ...used } = await costOf(schedd, b, () =>
        Promise.all(Array.from({ length: CLIENTS }, (_, i) => cli(pool, 'dq', ['-json'], '', b.launcher, out(i)))),
      );
      const times = done.map((r) => r.ms);
      let same = 0;
      for (let i = 0; i < CLIENTS; i++) {
        if (digest(readFileSync(out(i))) === alone.get(b)!.answer) same++;
        rmSync(out(i), { force: true });
      }
      const one = alone.get(b)!.file;
      console.log(
        `${tag(b, '> file')} ${CLIENTS} × dq -json at once: median ${ms(median(times))}, slowest ${ms(Math.max(...times))} = ${(Math.max(...times) / one).toFixed(1)}× alone (goal ≤ 3×); ` +
          `launcher ${cpu(median(done.map((r) => r.cpu)))} CPU each (median), agent ${cpu(used.agent)} and schedd ${cpu(used.schedd)} for all; ` +
          `${done.filter((r) => r.code).length} failed, ${same}/${CLIENTS} answers complete and identical to the one alone`,
      );
      for (const r of done.filter((r) => r.code).slice(0, 3))
        console.log(`  a dq failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
    }
    // at once through pipes, a dsubmit among them
    for (const b of order) {
      const submits: number[] = [];
      for (let i = 0; i < 3; i++) submits.push((await cli(pool, 'dsubmit', SUBMIT, ONE_JOB, b.launcher)).ms);
      const { r, ...used } = await costOf(schedd, b, async () => {
        const many = Array.from({ length: CLIENTS }, () => cli(pool, 'dq', ['-json'], '', b.launcher));
        const during = await cli(pool, 'dsubmit', SUBMIT, ONE_JOB, b.launcher);
        return { during, done: await Promise.all(many) };
      });
      const times = r.done.map((x) => x.ms);
      const one = alone.get(b)!.pipe;
      console.log(
        `${tag(b, 'pipe')} ${CLIENTS} × dq -json at once: median ${ms(median(times))}, slowest ${ms(Math.max(...times))} = ${(Math.max(...times) / one).toFixed(1)}× alone (goal ≤ 3×); ` +
          `launcher ${cpu(median(r.done.map((x) => x.cpu)))} CPU each (median), agent ${cpu(used.agent)} and schedd ${cpu(used.schedd)} for all; ` +
          `${r.done.filter((x) => x.code).length} failed, ${new Set(r.done.map((x) => digest(x.stdout))).size} distinct answers (≤ 2: with and without the job submitted meanwhile); ` +
          `dsubmit alone ${ms(median(submits))}, among them ${ms(r.during.ms)}: delayed ${ms(r.during.ms - median(submits))} (goal ≤ 100 ms)`,
      );
    }
  }
}

async function main() {
  console.log(`concurrent-queries: ${JOBS} held jobs, ${CLIENTS} × dq -json`);
  const pool = TestPool.create({ UPDATE_INTERVAL: '30', NEGOTIATOR_INTERVAL: '60' });
  const prof = process.argv.indexOf('--cpu-prof');
  const started = await pool.run('dsched', ['start'], {
    env: prof > 0 ? { DSCHED_DAEMON_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${process.argv[prof + 1]}` } : {},
  });
  if (started.code) throw new Error(`dsched start failed: ${started.stderr}`);
  try {
    const schedd = pool.daemonPid('schedd');
    const sub = await cli(pool, 'dsubmit', SUBMIT, `executable = /bin/true\nqueue ${JOBS}\n`);
    if (sub.code) throw new Error(`dsubmit failed: ${sub.stderr}`);

    // end to end: real CLIs
    if (!process.argv.includes('--schedd-only')) {
      if (!process.argv.includes('--no-node')) await endToEnd(pool, schedd);
      if (!process.argv.includes('--no-launcher')) {
        const base = process.env.BENCH_BASE;
        const builds: Build[] = [
          ...(base ? [{ label: 'base', launcher: new Launcher(pool, join(base, 'cli', 'dcmd')) }] : []),
          { label: base ? 'this' : 'this build', launcher: new Launcher(pool) },
        ];
        if (base) console.log(`A/B: base ${base}, this ${DIST}, alternating`);
        try {
          for (const b of builds) await b.launcher.waitForAgent();
          await installed(pool, schedd, builds);
        } finally {
          for (const b of builds) b.launcher.close();
        }
      }
    }

    // the schedd's side: no CLI processes
    const raw = new RawSchedd(pool);
    // --raw-as-dq: ask as dq -json does (the listing rendered by the schedd, gzip-compressed); else whole ads
    const asDq = process.argv.includes('--raw-as-dq') ? { format: 'json', gzip: true } : {};
    const req = {
      ids: [],
      owners: [],
      constraint: '',
      projection: [],
      history: false,
      limit: 0,
      counts_only: false,
      ...asDq,
    };
    const rawAlone: number[] = [];
    let rawBytes = 0;
    let rawSchedd = 0;
    for (let i = 0; i < ALONE; i++) {
      const s0 = cpuSec(schedd);
      const r = await raw.query(req);
      rawSchedd += cpuSec(schedd) - s0;
      rawAlone.push(r.ms);
      rawBytes = r.bytes;
    }
    const rawOne = median(rawAlone);
    const rpcSubmitAlone = median([await raw.submit(), await raw.submit(), await raw.submit()]);
    const s0 = cpuSec(schedd);
    const streams = Array.from({ length: CLIENTS }, () => raw.query(req));
    await new Promise((r) => setTimeout(r, Math.min(100, rawOne / 4)));
    const rpcDuring = await raw.submit();
    const rawMany = await Promise.all(streams);
    const rawCpu = cpuSec(schedd) - s0;
    const rawTimes = rawMany.map((r) => r.ms);
    console.log(
      `schedd side, QueryJobs as raw streams: alone ${ms(rawOne)} median of ${ALONE} (${(rawBytes / 1e6).toFixed(1)} MB of pages, schedd ${(rawSchedd / ALONE).toFixed(2)} s CPU); ` +
        `${CLIENTS} at once: median ${ms(median(rawTimes))}, slowest ${ms(Math.max(...rawTimes))} = ${(Math.max(...rawTimes) / rawOne).toFixed(1)}× alone, schedd ${rawCpu.toFixed(2)} s CPU for all`,
    );
    console.log(
      `schedd side, Submit RPC: alone ${ms(rpcSubmitAlone)}, during the ${CLIENTS} streams ${ms(rpcDuring)}: delayed ${ms(rpcDuring - rpcSubmitAlone)}`,
    );
  } finally {
    await pool.stop();
  }
}

await main();
