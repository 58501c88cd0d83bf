// Many readers of one queue, run on demand:
//   node --import tsx bench/concurrent-queries.ts [--jobs 10000] [--clients 50] [--alone 5] [--cpu-prof DIR] [--schedd-only] [--window BYTES] [--raw-as-dq] [--no-launcher]
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
// The end-to-end part runs twice: the commands as node processes (node dist/cli/X.js), then as installed (the
// launcher, dist/cli/dcmd, through this user's command agent, warm); --no-launcher leaves the second out.
// For before/after figures, run it from a built checkout of each commit, alternating. Nothing is asserted.
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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

/** When set, commands run through the launcher (and the agent) instead of as node processes. */
let launcher: Launcher | undefined;

function cli(pool: TestPool, cmd: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const [file, argv, env] = launcher
      ? [join(launcher.bin, cmd), args, launcher.env]
      : [process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], pool.env];
    const child = TIME
      ? spawn(TIME, ['-f', `${MARK}%U %S`, file, ...argv], { cwd: pool.work, env })
      : spawn(file, argv, { cwd: pool.work, env });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
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
    child.stdin.end(input);
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
  console.log(launcher ? 'installed commands (launcher and agent):' : 'commands as node processes:');
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
      await endToEnd(pool, schedd);
      if (!process.argv.includes('--no-launcher')) {
        launcher = new Launcher(pool);
        try {
          await launcher.waitForAgent();
          await endToEnd(pool, schedd);
        } finally {
          launcher.close();
          launcher = undefined;
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
