// Malformed gRPC messages at each daemon of a real personal pool (`dsched start` in a temporary DSCHED_HOME,
// as test/integration/harness/pool.ts starts one). For every rpc of proto/, random and mutated protobuf bodies
// are sent with no token, a garbage token, a user's token and an admin's token (as a CLI run by root signs
// one). A crash is an INTERNAL or UNKNOWN status (the handler threw something untyped, or the request could
// not be read), a daemon that exits, or one that stops answering.
//
// Channels are made by lib/rpc/client.ts's RpcClient (so they get whatever credentials it gives, TLS
// included); bodies are sent as raw bytes through its grpc client with identity (de)serializers.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { loadTokenKey, signToken } from '../../lib/rpc/auth.js';
import { RpcClient } from '../../lib/rpc/client.js';
import { protoWithDescriptors } from '../../lib/rpc/proto.js';
import { ROOT } from './corpus.js';
import { FINDINGS_DIR, preview, writeFinding, type CrashReport, type TargetReport } from './engine.js';
import { bodyArb, messageTypes, skipKnownIssues, type MessageDesc } from './protobuf.js';

const DAEMONS = {
  collector: 'Collector',
  negotiator: 'Negotiator',
  schedd: 'Schedd',
  startd: 'Startd',
  master: 'Master',
} as const;
type Daemon = keyof typeof DAEMONS;
const AUTHS = ['none', 'garbage', 'user', 'admin'] as const;
type Auth = (typeof AUTHS)[number];

/** Calls that would legitimately end the run (an admin may stop the pool). */
const SKIP: Partial<Record<Auth, string[]>> = { admin: ['Master.Shutdown'] };

const POOL_CONFIG: Record<string, string> = {
  UPDATE_INTERVAL: '2',
  NEGOTIATOR_INTERVAL: '5',
  JOB_LEASE_DURATION: '20',
  KILL_GRACE: '2',
  PERIODIC_EXPR_INTERVAL: '1',
  NUM_CPUS: '2',
  MEMORY: '1024',
};

interface MethodInfo {
  daemon: Daemon;
  name: string;
  path: string;
  stream: boolean;
  request: MessageDesc;
}

export interface GrpcOptions {
  count: number;
  seed: number;
  write: boolean;
  log?: (s: string) => void;
  /** use this running pool's DSCHED_HOME instead of starting one */
  home?: string;
  /** leave out inputs of known, separately tracked issues (the CI slice does) */
  skipKnownIssues?: boolean;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'dsched.js'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, out });
    });
  });
}

function readAddress(home: string, d: Daemon): { address: string; pid: number } | undefined {
  try {
    const [address, pid] = readFileSync(join(home, 'run', `${d}.address`), 'utf8').split('\n');
    return address ? { address: address.trim(), pid: Number(pid) } : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The grpc-js client inside an RpcClient: the channel and credentials are RpcClient's own. */
function channelFor(address: string, role: Daemon, home: string): { client: grpc.Client; rpc: RpcClient } {
  // TLS with the pool's CA, as any local user can; no client certificate (tokens are sent per call)
  const rpc = new RpcClient(
    address,
    grpc.Client as never,
    { tls: { ca: readFileSync(join(home, 'host', 'ca.crt')) } },
    { role },
    `fuzz at ${address}`,
    'DAEMON_UNREACHABLE',
  );
  return { rpc, client: (rpc as unknown as { client: grpc.Client }).client };
}

const identity = (b: Buffer) => b;

interface CallResult {
  code: number;
  details: string;
}

function call(
  client: grpc.Client,
  m: { path: string; stream: boolean },
  body: Buffer,
  md: grpc.Metadata,
  deadlineMs: number,
): Promise<CallResult> {
  const deadline = new Date(Date.now() + deadlineMs);
  return new Promise((resolve) => {
    if (!m.stream) {
      client.makeUnaryRequest(m.path, identity, identity, body, md, { deadline }, (err) =>
        resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' }),
      );
      return;
    }
    const s = client.makeServerStreamRequest(m.path, identity, identity, body, md, { deadline });
    let done = false;
    const finish = (r: CallResult) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      resolve(r);
    };
    // a stream that is accepted stays open (Watch, WatchJobs): one message or a short wait is enough
    const t = setTimeout(() => {
      s.cancel();
      finish({ code: 0, details: 'open' });
    }, 300);
    s.on('data', () => {
      s.cancel();
      finish({ code: 0, details: 'data' });
    });
    s.on('error', (e: grpc.ServiceError) =>
      finish({ code: e.code === grpc.status.CANCELLED ? 0 : e.code, details: e.details }),
    );
    s.on('end', () => finish({ code: 0, details: 'end' }));
  });
}

const GARBAGE_TOKENS = [
  'Bearer ',
  'Bearer x',
  'bearer abc',
  'Basic dXNlcjpwYXNz',
  'Bearer a.b.c',
  'Bearer ...',
  'Bearer ' + 'A'.repeat(20_000),
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyOnJvb3QiLCJleHAiOjk5OTk5OTk5OTksImFkbWluIjp0cnVlfQ.',
  'Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln',
  'Bearer a.b.c.d.e',
  'Bearer e30.e30.',
  'Bearer e30.eyJzdWIiOjF9.AAAA',
];

/** Run `count` malformed calls against a pool; the report counts crashes the way the grammar targets do. */
export async function runGrpc(opts: GrpcOptions): Promise<TargetReport> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const report: TargetReport = {
    target: 'grpc',
    ran: 0,
    crashes: 0,
    distinct: [],
    slowest: { ms: 0, index: -1, preview: '' },
    slowCount: 0,
    wallMs: 0,
  };
  if (!existsSync(join(ROOT, 'dist', 'cli', 'dsched.js')))
    throw new Error('the gRPC target starts the built daemons: run npm run build first');

  const own = !opts.home;
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'dsched-fuzz-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DSCHED_HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('DSCHED_') && k !== 'DSCHED_HOME') delete env[k];
  const savedHome = process.env.DSCHED_HOME;
  process.env.DSCHED_HOME = home; // whatever RpcClient reads from the pool's home (its CA, once channels use TLS)
  const clients = new Map<Daemon, { client: grpc.Client; rpc: RpcClient; pid: number; address: string }>();
  try {
    if (own) {
      chmodSync(home, 0o755);
      writeFileSync(
        join(home, 'config'),
        Object.entries(POOL_CONFIG)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n') + '\n',
      );
      const r = await run(['start'], env);
      if (r.code !== 0) throw new Error(`dsched start failed (${r.code}): ${r.out}`);
    }
    const key = loadTokenKey(join(home, 'ca', 'token.key'));
    const tokens: Record<Exclude<Auth, 'none' | 'garbage'>, string> = {
      // what the schedd's FinishAuth gives a user who is not the pool's owner
      user: signToken(key, { user: 'nobody', ttl: 3600 }),
      // what a CLI run by root signs for itself
      admin: signToken(key, { user: 'root', ttl: 3600, admin: true }),
    };

    const connect = (d: Daemon) => {
      const a = readAddress(home, d);
      if (!a) return undefined;
      const old = clients.get(d);
      if (old && old.address === a.address && old.pid === a.pid) return old;
      old?.rpc.close();
      const c = { ...channelFor(a.address, d, home), pid: a.pid, address: a.address };
      clients.set(d, c);
      return c;
    };
    // every daemon's address file is written once it serves; the negotiator's may come a moment later
    const until = Date.now() + 60_000;
    while ((Object.keys(DAEMONS) as Daemon[]).some((d) => !readAddress(home, d)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));

    const pkg = (await protoWithDescriptors()) as unknown as Record<
      string,
      { service: Record<string, { path: string; responseStream: boolean; requestType: { type: MessageDesc } }> }
    >;
    const types = messageTypes(pkg as unknown as Record<string, unknown>);
    const methods: MethodInfo[] = [];
    for (const [d, svc] of Object.entries(DAEMONS) as Array<[Daemon, string]>) {
      if (!readAddress(home, d)) {
        log(`  grpc: no ${d} is running; its methods are skipped`);
        continue;
      }
      for (const [name, def] of Object.entries(pkg[svc]!.service)) {
        methods.push({
          daemon: d,
          name: `${svc}.${name}`,
          path: def.path,
          stream: def.responseStream,
          request: def.requestType.type,
        });
      }
    }
    log(`  grpc: ${methods.length} methods on ${new Set(methods.map((m) => m.daemon)).size} daemons, 4 kinds of token`);

    skipKnownIssues(opts.skipKnownIssues ?? false);
    const plan = fc
      .tuple(fc.nat(methods.length - 1), fc.constantFrom(...AUTHS), fc.nat(GARBAGE_TOKENS.length - 1))
      .chain(([mi, auth, gi]) => bodyArb(methods[mi]!.request, types).map((body) => ({ mi, auth, gi, body })));

    const seen = new Set<string>();
    const recent = new Map<Daemon, Array<{ index: number; method: string; auth: Auth; body: Buffer }>>();
    const record = (c: CrashReport, body: Buffer) => {
      report.crashes++;
      if (seen.has(c.signature)) return;
      seen.add(c.signature);
      if (opts.write) c.file = writeFinding({ name: 'grpc', ext: 'bin' }, body, c);
      report.distinct.push(c);
      log(`  grpc: ${c.signature}: ${c.message}`);
    };

    /** Is the daemon still the same process, and does it answer? An unknown method must come back UNIMPLEMENTED. */
    const probe = async (d: Daemon): Promise<string | undefined> => {
      const c = clients.get(d);
      if (!c) return 'not connected';
      if (!alive(c.pid)) return `the ${d} (pid ${c.pid}) exited`;
      const r = await call(
        c.client,
        { path: `/dsched.v1.${DAEMONS[d]}/NoSuchMethod`, stream: false },
        Buffer.alloc(0),
        new grpc.Metadata(),
        10_000,
      );
      if (r.code !== grpc.status.UNIMPLEMENTED)
        return `the ${d} did not answer a probe (${grpc.status[r.code]} ${r.details})`;
      return undefined;
    };

    const BATCH = 200;
    for (let i = 0; i < opts.count;) {
      const batch = fc.sample(plan, { seed: (opts.seed * 1_000_003 + Math.floor(i / BATCH)) | 0, numRuns: BATCH });
      for (let k = i % BATCH; k < BATCH && i < opts.count; k++, i++) {
        const { mi, auth, gi, body } = batch[k]!;
        const m = methods[mi]!;
        if (SKIP[auth]?.includes(m.name)) continue;
        const c = connect(m.daemon);
        if (!c) continue;
        const md = new grpc.Metadata();
        if (auth === 'garbage') md.set('authorization', GARBAGE_TOKENS[gi]!);
        else if (auth !== 'none') md.set('authorization', `Bearer ${tokens[auth]}`);
        const list = recent.get(m.daemon) ?? [];
        list.push({ index: i, method: m.name, auth, body });
        if (list.length > 20) list.shift();
        recent.set(m.daemon, list);

        const s = performance.now();
        const r = await call(c.client, m, body, md, 20_000);
        const ms = performance.now() - s;
        report.ran++;
        if (ms > report.slowest.ms)
          report.slowest = { ms, index: i, preview: `${m.name} (${auth} token) ${preview(body.toString('hex'), 60)}` };
        const where = `${m.name} with ${auth === 'none' ? 'no' : auth === 'admin' ? 'an admin' : `a ${auth}`} token`;
        if (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN) {
          // one root cause shows in many methods when it is in the shared server code (e.g. decoding), so that groups by message
          const shared = /deserializ/i.test(r.details);
          record(
            {
              target: 'grpc',
              seed: opts.seed,
              index: i,
              kind: 'throw',
              signature: `${grpc.status[r.code]}${shared ? '' : ` from ${m.name}`}: ${r.details.replace(/\d+/g, 'N').slice(0, 80)}`,
              message: `${where}: ${r.details}`,
            },
            body,
          );
        } else if (r.code === grpc.status.DEADLINE_EXCEEDED) {
          record(
            {
              target: 'grpc',
              seed: opts.seed,
              index: i,
              kind: 'hang',
              signature: `no answer from ${m.name}`,
              message: `${where}: no answer in 20 s`,
            },
            body,
          );
        }
        // a daemon that died or stopped answering: blame the calls since the last good probe
        if (!alive(c.pid) || i % 25 === 0) {
          const why = await probe(m.daemon);
          if (why) {
            const last = list[list.length - 1]!;
            record(
              {
                target: 'grpc',
                seed: opts.seed,
                index: last.index,
                kind: 'hang',
                signature: `${m.daemon} died or stopped answering after ${last.method}`,
                message: `${why}; the last ${list.length} calls to it are in the finding (the newest written)`,
              },
              last.body,
            );
            if (opts.write) mkdirSync(FINDINGS_DIR, { recursive: true });
            if (opts.write)
              writeFileSync(
                join(FINDINGS_DIR, `grpc-${m.daemon}-recent-${i}.json`),
                JSON.stringify(
                  list.map((x) => ({ ...x, body: x.body.toString('hex') })),
                  null,
                  1,
                ),
              );
            const master = readAddress(home, 'master');
            if (own && !(master && alive(master.pid))) {
              // the whole pool is down (a Shutdown got through, or something outside stopped it): start it again
              log('  grpc: the pool is down; starting it again');
              report.restarts = (report.restarts ?? 0) + 1;
              await run(['stop'], env, 120_000);
              const r2 = await run(['start'], env);
              if (r2.code !== 0) throw new Error(`dsched start failed (${r2.code}): ${r2.out}`);
              for (const d2 of Object.keys(DAEMONS) as Daemon[]) connect(d2);
              list.length = 0;
              continue;
            }
            // wait for the master to start it again, then go on
            const until2 = Date.now() + 60_000;
            while (Date.now() < until2) {
              const a = readAddress(home, m.daemon);
              if (a && a.pid !== c.pid && alive(a.pid)) break;
              await new Promise((r2) => setTimeout(r2, 250));
            }
            connect(m.daemon);
          }
          list.length = 0;
        }
      }
      if (i % 1000 === 0) log(`  grpc: ${i} / ${opts.count}`);
    }
    // the pool as a user sees it, at the end
    for (const d of clients.keys()) {
      const why = await probe(d);
      if (why)
        record(
          {
            target: 'grpc',
            seed: opts.seed,
            index: opts.count,
            kind: 'hang',
            signature: `${d} down at the end`,
            message: why,
          },
          Buffer.alloc(0),
        );
    }
    const st = await run(['status'], env, 60_000);
    if (st.code !== 0)
      record(
        {
          target: 'grpc',
          seed: opts.seed,
          index: opts.count,
          kind: 'hang',
          signature: 'dsched status fails at the end',
          message: st.out.slice(0, 500),
        },
        Buffer.alloc(0),
      );
  } finally {
    for (const c of clients.values()) c.rpc.close();
    if (own) {
      await run(['stop'], env, 120_000);
      rmSync(home, { recursive: true, force: true });
    }
    if (savedHome === undefined) delete process.env.DSCHED_HOME;
    else process.env.DSCHED_HOME = savedHome;
  }
  report.wallMs = performance.now() - t0;
  return report;
}
