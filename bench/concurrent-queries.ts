// Many readers of one queue, run on demand:
//   node --import tsx bench/concurrent-queries.ts [--jobs 10000] [--clients 50] [--alone 5] [--rounds 1] [--cpu-prof DIR] [--schedd-only] [--window BYTES] [--raw-as-dq] [--no-launcher] [--no-node]
// (--cpu-prof: every daemon writes a CPU profile into DIR when the pool stops)
// On a personal pool holding --jobs held jobs it prints, end to end (real `dq -json` processes, each under
// /usr/bin/time for its own CPU):
//  - one `dq -json` alone: the median of --alone runs, its CPU and the schedd's
//  - --clients `dq -json` at once: the median and the slowest against one alone, whether every answer is
//    byte for byte the one alone gave, the schedd's CPU for all of them
//  - a `dsubmit` started with them: how much longer it took than alone (installed: as this runner saw it end,
//    and to its own end, which this runner's reading of 50 answers through pipes does not delay)
// and then the schedd's side alone, without 50 node processes fighting for the machine's cores: the same
// queries as raw gRPC streams from this process (the pages counted, never decoded), one alone and --clients
// at once, and a Submit RPC made meanwhile against one made alone.
// The end-to-end part runs first with the commands as node processes (node dist/cli/X.js; --no-node leaves
// it out), then as installed (the launcher, dist/cli/dcmd, through this user's command agent, warm;
// --no-launcher leaves it out). The installed commands are measured two ways: as a user runs
// `dq -json > out.N.json` (stdout a file the runner opens in the pool's folder, read and compared only after
// the clock stops: what a user waits for), and with stdout a pipe this runner reads (compared as it comes
// with the answer of one alone just before, byte for byte); the agent's CPU is printed beside the schedd's.
// Node spawns one child at a time, each in tens of ms on a loaded machine, so the installed commands are
// each spawned behind a gate (a shell waiting on its fd 3) and then all let go at the same instant, one alone
// too: each is timed from there, its exec of /usr/bin/time and of the launcher included. The files' batch
// runs again spawned in turn, each timed from its own spawn (as the runner did before), and "the floor" is
// 50 × /bin/true both ways. "The kernel's floor" is `cat` of the answer (it copies with copy_file_range, as
// the launcher copies its ranges), one alone and --clients let go at once, to a file each and through pipes
// this runner reads: what copying --clients answers costs this machine without any of dsched in the way.
// Last, through pipes each read by a process of its own (`cmp` against the answer, as each of 50 users reads
// their own answer), the kernel's floor that way too (`cat` of the answer into each `cmp`): this runner reading
// 50 pipes in its one event loop is then out of the measure.
// A/B: BENCH_BASE=DIR names the dist/ of another build (say main's): its launcher and agent are measured too,
// on the same pool, alternating with this build's in each step (--rounds N repeats the steps, the order
// reversed every other round).
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
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

/**
 * A CLI's exit code, wall time, own CPU seconds (user + system, from /usr/bin/time) and output. With an
 * expected answer the output is compared as it comes and kept only when it differs (`same` says which).
 */
type Run = { code: number; ms: number; cpu: number; stdout: Buffer; stderr: string; same?: boolean; ownMs?: number };

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const MARK = '@@time ';

/** The gate: the shell says it is there (a byte on its fd 3), waits for one back, then becomes the command. */
const GATE = 'printf x >&3 && read -r _ <&3 && exec 3>&- && exec "$@"';
/**
 * The same gate, then the command's own end on stderr (bash's clock, no fork): when this runner is busy reading
 * 50 answers through pipes, it sees a process end only when its event loop comes round to it.
 */
const END = '@@end ';
const GATE_OWN_END = `printf x >&3 && read -r _ <&3 && exec 3>&- && { "$@"; s=$?; printf '${END}%s\\n' "$EPOCHREALTIME" >&2; exit $s; }`;
/**
 * The same gate, the command's stdout a pipe read by a process of its own (`cmp` against the expected answer,
 * $BENCH_ANSWER), as each of 50 users reads their own answer; cmp's verdict on stderr, the command's exit code.
 */
const CMP = '@@cmp ';
const GATE_READER = `printf x >&3 && read -r _ <&3 && exec 3>&- && { "$@" | cmp -s - "$BENCH_ANSWER"; s=("\${PIPESTATUS[@]}"); printf '${CMP}%s\\n' "\${s[1]}" >&2; exit "\${s[0]}"; }`;

/** A command started: `go()` lets it run (at once when it was not held), `done` its run, timed from then. */
interface Started {
  /** Resolves once the command waits at its gate (at once when not held). */
  ready: Promise<void>;
  go(): void;
  done: Promise<Run>;
}

/** How a command is started: `toFile` its stdout (else a pipe), `expect` its answer, `held` at a gate. */
interface How {
  via?: Launcher;
  /** `cmd` is a program's path, run as it is (the kernel's floor: cat of the answer) */
  plain?: boolean;
  toFile?: string;
  expect?: Buffer;
  held?: boolean;
  /** (held) also time the command to its own end, as the process itself ends (Run.ownMs) */
  ownEnd?: boolean;
  /** (held) stdout a pipe that `cmp` reads, in a process of its own, against this file (Run.same) */
  readBy?: string;
}

/**
 * `cmd args` through `via` (a launcher, else as a node process). With `toFile` its stdout is that file (as
 * `> toFile`), opened here and read only after the command has ended (the returned stdout is then empty).
 * `held`: the command is spawned behind a gate (a shell waiting for a byte on its fd 3, then exec'ing it), so
 * that many can be let go at the same instant; node spawns one child at a time (tens of ms each on a loaded
 * machine), which would spread their starts over a second. A held command is timed from its `go()`; any
 * other from just before its spawn.
 */
function start(pool: TestPool, cmd: string, args: string[], input = '', how: How = {}): Started {
  const { via, plain, toFile, expect, held, ownEnd, readBy } = how;
  const [file, argv, env] = plain
    ? [cmd, args, pool.env]
    : via
      ? [join(via.bin, cmd), args, via.env]
      : [process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], pool.env];
  const timed = TIME ? [TIME, '-f', `${MARK}%U %S`, file, ...argv] : [file, ...argv];
  const fd = toFile === undefined ? 'pipe' : openSync(toFile, 'w', 0o600);
  let t0 = performance.now();
  let wall0 = Date.now();
  const stdio: Array<'pipe' | 'ignore' | number> = [
    'pipe',
    readBy === undefined ? fd : 'ignore',
    'pipe',
    ...(held ? ['pipe' as const] : []),
  ];
  const opts = { cwd: pool.work, env: readBy === undefined ? env : { ...env, BENCH_ANSWER: readBy }, stdio };
  const child = !held
    ? spawn(timed[0]!, timed.slice(1), opts)
    : readBy !== undefined
      ? spawn('/bin/bash', ['-c', GATE_READER, 'bash', ...timed], opts)
      : ownEnd
        ? spawn('/bin/bash', ['-c', GATE_OWN_END, 'bash', ...timed], opts)
        : spawn('/bin/sh', ['-c', GATE, 'sh', ...timed], opts);
  if (typeof fd === 'number') closeSync(fd);
  const gate = held ? (child.stdio[3] as Socket) : undefined;
  const ready = gate ? new Promise<void>((res) => gate.once('data', () => res())) : Promise.resolve();
  const go = () => {
    if (!gate) return;
    t0 = performance.now();
    wall0 = Date.now();
    gate.end('\n');
  };
  const done = new Promise<Run>((resolve, reject) => {
    const out: Buffer[] = [];
    let got = 0;
    let same = expect !== undefined;
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      // compared against the expected answer as it comes (cheap), kept only once it differs
      if (same && expect!.subarray(got, got + d.length).equals(d)) return void (got += d.length);
      if (same) out.push(expect!.subarray(0, got));
      same = false;
      out.push(d);
    });
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const endAt = stderr.lastIndexOf(END);
      const ownMs = endAt >= 0 ? Number(stderr.slice(endAt + END.length)) * 1000 - wall0 : undefined;
      if (endAt >= 0) stderr = stderr.slice(0, endAt);
      const cmpAt = stderr.lastIndexOf(CMP);
      const cmpSame = cmpAt >= 0 ? stderr.slice(cmpAt + CMP.length).trim() === '0' : undefined;
      if (cmpAt >= 0) stderr = stderr.slice(0, cmpAt);
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
      if (same && got !== expect!.length) {
        same = false;
        out.push(expect!.subarray(0, got));
      }
      const parts = same ? [expect!] : out;
      // joined only when asked, after the clock: 50 answers of 14 MB copied in the close handlers would delay
      // the other commands' ends as this runner sees them
      resolve({
        code: code ?? -1,
        ms,
        cpu: user! + sys!,
        get stdout() {
          return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        },
        stderr,
        same: cmpSame ?? (expect && same),
        ownMs,
      });
    });
    // a command that never reads its input (dq) may have ended before it is written
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
  return { ready, go, done };
}

/** One command, run at once (as before: timed from just before its spawn). */
function cli(pool: TestPool, cmd: string, args: string[], input = '', how: How = {}): Promise<Run> {
  return start(pool, cmd, args, input, how).done;
}

/** Commands each started behind its gate, then all let go at the same instant: their runs. */
async function atOnce(starts: Started[]): Promise<Run[]> {
  await Promise.all(starts.map((s) => s.ready));
  for (const s of starts) s.go();
  return Promise.all(starts.map((s) => s.done));
}

/** How many different answers among `bufs` (byte for byte). */
function distinct(bufs: Buffer[]): number {
  const seen: Buffer[] = [];
  for (const b of bufs) if (!seen.some((x) => x.equals(b))) seen.push(b);
  return seen.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
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
  const answers = distinct(done.map((r) => r.stdout));
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

/** `fn`'s result and the CPU seconds the schedd, the build's agent and this runner used meanwhile. */
async function costOf<T>(schedd: number, b: Build, fn: () => Promise<T>) {
  const s0 = cpuSec(schedd);
  const a0 = agentCpu(b);
  const r0 = process.cpuUsage();
  const r = await fn();
  const { user, system } = process.cpuUsage(r0);
  return { r, schedd: cpuSec(schedd) - s0, agent: agentCpu(b) - a0, runner: (user + system) / 1e6 };
}

const cpu = (x: number) => `${x.toFixed(2)} s`;

/**
 * The installed commands of each build, alternating step by step: one `dq -json` alone and --clients at once,
 * first each to a file of its own (as `dq -json > out.N.json`: the files are read only after the clock stops),
 * then through pipes this runner reads, with a dsubmit started among them. Each command is spawned behind a
 * gate and all are let go at the same instant (one alone too, so both are timed alike: from the gate, through
 * /usr/bin/time's and the launcher's start, to the end seen here); the files' batch is run a second time as
 * before, each command spawned in turn and timed from its own spawn, for comparison.
 */
async function installed(pool: TestPool, schedd: number, builds: Build[]) {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...builds].reverse() : builds;
    const tag = (b: Build, how: string) => `${ROUNDS > 1 ? `[round ${round + 1}] ` : ''}installed, ${b.label}, ${how}:`;
    const alone = new Map<Build, { file: number; pipe: number; answer: Buffer }>();
    // one alone, each way: the median of --alone runs
    for (const how of ['> file', 'pipe'] as const) {
      const runs = new Map(order.map((b) => [b, [] as Array<Awaited<ReturnType<typeof costOf<Run>>>>]));
      const path = join(pool.work, 'out.alone.json');
      for (let i = 0; i < ALONE; i++)
        for (const b of order)
          runs.get(b)!.push(
            await costOf(schedd, b, async () => {
              const toFile = how === 'pipe' ? undefined : path;
              const [r] = await atOnce([start(pool, 'dq', ['-json'], '', { via: b.launcher, toFile, held: true })]);
              return r!;
            }),
          );
      for (const b of builds) {
        const rs = runs.get(b)!;
        const one = median(rs.map((x) => x.r.ms));
        const last = how === 'pipe' ? rs.at(-1)!.r.stdout : readFileSync(path);
        const a = alone.get(b) ?? { file: 0, pipe: 0, answer: last };
        a[how === 'pipe' ? 'pipe' : 'file'] = one;
        alone.set(b, a);
        console.log(
          `${tag(b, how)} dq -json alone ${ms(one)} median of ${ALONE} (${(last.length / 1e6).toFixed(1)} MB; ` +
            `launcher ${cpu(median(rs.map((x) => x.r.cpu)))} CPU, agent ${cpu(median(rs.map((x) => x.agent)))}, schedd ${cpu(median(rs.map((x) => x.schedd)))}; ` +
            `${rs.filter((x) => x.r.code).length} failed${last.equals(a.answer) ? '' : ', ANSWER DIFFERS from the other way'})`,
        );
      }
      rmSync(path, { force: true });
    }
    // what starting that many processes at once costs on this machine now (the same gate and /usr/bin/time),
    // and spawned in turn, each from its own spawn
    const trues = (held: boolean) =>
      Array.from({ length: CLIENTS }, (): Started => {
        let t0 = performance.now();
        const timed = [...(TIME ? [TIME, '-f', ''] : []), '/bin/true'];
        const t = held
          ? spawn('/bin/sh', ['-c', GATE, 'sh', ...timed], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] })
          : spawn(timed[0]!, timed.slice(1));
        const gate = held ? (t.stdio[3] as Socket) : undefined;
        return {
          ready: gate ? new Promise<void>((res) => gate.once('data', () => res())) : Promise.resolve(),
          go: () => {
            t0 = performance.now();
            gate?.end('\n');
          },
          done: new Promise<Run>((res) =>
            t.on('close', (code) =>
              res({ code: code ?? -1, ms: performance.now() - t0, cpu: 0, stdout: Buffer.alloc(0), stderr: '' }),
            ),
          ),
        };
      });
    const floor = (await atOnce(trues(true))).map((r) => r.ms);
    const floorInTurn = (await Promise.all(trues(false).map((t) => t.done))).map((r) => r.ms);
    console.log(
      `${ROUNDS > 1 ? `[round ${round + 1}] ` : ''}${CLIENTS} × /bin/true (the floor): let go at once median ${ms(median(floor))}, slowest ${ms(Math.max(...floor))}; ` +
        `spawned in turn median ${ms(median(floorInTurn))}, slowest ${ms(Math.max(...floorInTurn))}`,
    );
    // at once, each to its own file: checked after the clock stopped; let go at once, then spawned in turn
    for (const held of [true, false])
      for (const b of order) {
        const out = (i: number) => join(pool.work, `out.${i}.json`);
        const { r: done, ...used } = await costOf(schedd, b, () => {
          const starts = Array.from({ length: CLIENTS }, (_, i) =>
            start(pool, 'dq', ['-json'], '', { via: b.launcher, toFile: out(i), held }),
          );
          return atOnce(starts);
        });
        const times = done.map((r) => r.ms);
        let same = 0;
        for (let i = 0; i < CLIENTS; i++) {
          if (readFileSync(out(i)).equals(alone.get(b)!.answer)) same++;
          rmSync(out(i), { force: true });
        }
        const one = alone.get(b)!.file;
        console.log(
          `${tag(b, `> file, ${held ? 'let go at once' : 'spawned in turn, each timed from its own spawn'}`)} ${CLIENTS} × dq -json: median ${ms(median(times))}, slowest ${ms(Math.max(...times))} = ${(Math.max(...times) / one).toFixed(1)}× alone (goal ≤ 3×); ` +
            `launcher ${cpu(median(done.map((r) => r.cpu)))} CPU each (median), agent ${cpu(used.agent)} and schedd ${cpu(used.schedd)} for all, this runner ${cpu(used.runner)}; ` +
            `${done.filter((r) => r.code).length} failed, ${same}/${CLIENTS} answers complete and identical to the one alone`,
        );
        for (const r of done.filter((r) => r.code).slice(0, 3))
          console.log(`  a dq failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
      }
    // the kernel's floor: the answer copied by `cat` (copy_file_range, as the launcher copies its spool) to a
    // file each, and through pipes this runner reads, one alone and --clients let go at once
    const answer = join(pool.work, 'answer.json');
    writeFileSync(answer, alone.get(builds.at(-1)!)!.answer, { mode: 0o600 });
    const whole = readFileSync(answer);
    for (const how of ['> file', 'pipe'] as const) {
      const out = (i: number) => (how === 'pipe' ? undefined : join(pool.work, `cat.${i}.json`));
      const cats = (n: number) =>
        atOnce(
          Array.from({ length: n }, (_, i) =>
            start(pool, '/bin/cat', [answer], '', {
              plain: true,
              toFile: out(i),
              expect: how === 'pipe' ? whole : undefined,
              held: true,
            }),
          ),
        );
      const one: number[] = [];
      for (let i = 0; i < ALONE; i++) one.push((await cats(1))[0]!.ms);
      const runs = await cats(CLIENTS);
      const many = runs.map((r) => r.ms);
      let same = 0;
      for (let i = 0; i < CLIENTS; i++) {
        const f = out(i);
        if (f ? readFileSync(f).equals(whole) : runs[i]!.same) same++;
        if (f) rmSync(f, { force: true });
      }
      console.log(
        `${ROUNDS > 1 ? `[round ${round + 1}] ` : ''}cat of the answer (the kernel's floor), ${how}: alone ${ms(median(one))} median of ${ALONE}; ` +
          `${CLIENTS} let go at once: median ${ms(median(many))}, slowest ${ms(Math.max(...many))} = ${(Math.max(...many) / median(one)).toFixed(1)}× alone; ${same}/${CLIENTS} copies complete`,
      );
    }
    rmSync(answer, { force: true });
    // at once through pipes, a dsubmit let go with them
    for (const b of order) {
      const submits: Run[] = [];
      for (let i = 0; i < 3; i++)
        submits.push(
          (await atOnce([start(pool, 'dsubmit', SUBMIT, ONE_JOB, { via: b.launcher, held: true, ownEnd: true })]))[0]!,
        );
      // the answer now, with the jobs just submitted (not timed)
      const expect = (await atOnce([start(pool, 'dq', ['-json'], '', { via: b.launcher, held: true })]))[0]!.stdout;
      const { r, ...used } = await costOf(schedd, b, async () => {
        const all = await atOnce([
          start(pool, 'dsubmit', SUBMIT, ONE_JOB, { via: b.launcher, held: true, ownEnd: true }),
          ...Array.from({ length: CLIENTS }, () =>
            start(pool, 'dq', ['-json'], '', { via: b.launcher, expect, held: true }),
          ),
        ]);
        return { during: all[0]!, done: all.slice(1) };
      });
      const times = r.done.map((x) => x.ms);
      const one = alone.get(b)!.pipe;
      const same = r.done.filter((x) => x.same).length;
      console.log(
        `${tag(b, 'pipe, let go at once')} ${CLIENTS} × dq -json: median ${ms(median(times))}, slowest ${ms(Math.max(...times))} = ${(Math.max(...times) / one).toFixed(1)}× alone (goal ≤ 3×); ` +
          `launcher ${cpu(median(r.done.map((x) => x.cpu)))} CPU each (median), agent ${cpu(used.agent)} and schedd ${cpu(used.schedd)} for all, this runner ${cpu(used.runner)}; ` +
          `${r.done.filter((x) => x.code).length} failed, ${same}/${CLIENTS} identical to one alone just before, ` +
          `${distinct(r.done.filter((x) => !x.same).map((x) => x.stdout))} other answers (≤ 1: with the job submitted meanwhile); ` +
          `dsubmit alone ${ms(median(submits.map((x) => x.ms)))}, among them ${ms(r.during.ms)}: delayed ${ms(r.during.ms - median(submits.map((x) => x.ms)))} (goal ≤ 100 ms) as this runner saw it end; ` +
          `to its own end ${ms(median(submits.map((x) => x.ownMs!)))} alone, ${ms(r.during.ownMs!)} among them: delayed ${ms(r.during.ownMs! - median(submits.map((x) => x.ownMs!)))}`,
      );
    }
    // through pipes each read by a process of its own (cmp against the answer), as 50 users each read their
    // own answer: the copying out of 50 pipes is then theirs, not this runner's one event loop's; the kernel's
    // floor the same way (cat of the answer into each cmp)
    const cmpAnswer = join(pool.work, 'answer.cmp.json');
    writeFileSync(
      cmpAnswer,
      (await atOnce([start(pool, 'dq', ['-json'], '', { via: order[0]!.launcher, held: true })]))[0]!.stdout,
      {
        mode: 0o600,
      },
    );
    const readers = async (label: string, cmd: string, args: string[], how: How, b?: Build) => {
      const one: number[] = [];
      for (let i = 0; i < ALONE; i++) one.push((await atOnce([start(pool, cmd, args, '', how)]))[0]!.ms);
      const { r: done, ...used } = await costOf(schedd, b ?? order[0]!, () =>
        atOnce(Array.from({ length: CLIENTS }, () => start(pool, cmd, args, '', how))),
      );
      const times = done.map((x) => x.ms);
      console.log(
        `${label} alone ${ms(median(one))} median of ${ALONE}; ${CLIENTS} let go at once: median ${ms(median(times))}, slowest ${ms(Math.max(...times))} = ${(Math.max(...times) / median(one)).toFixed(1)}× alone` +
          `${b ? ` (goal ≤ 3×); agent ${cpu(used.agent)} and schedd ${cpu(used.schedd)} for all, this runner ${cpu(used.runner)}` : ''}; ` +
          `${done.filter((x) => x.code).length} failed, ${done.filter((x) => x.same).length}/${CLIENTS} complete and identical to the answer`,
      );
    };
    await readers(
      `${ROUNDS > 1 ? `[round ${round + 1}] ` : ''}cat of the answer (the kernel's floor), pipe each read by its own cmp:`,
      '/bin/cat',
      [cmpAnswer],
      { plain: true, held: true, readBy: cmpAnswer },
    );
    for (const b of order)
      await readers(
        `${tag(b, 'pipe each read by its own cmp')} dq -json`,
        'dq',
        ['-json'],
        { via: b.launcher, held: true, readBy: cmpAnswer },
        b,
      );
    rmSync(answer, { force: true });
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
