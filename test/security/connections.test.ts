// Connections and challenges one client holds, against a pool run by root. Anyone who reaches a daemon may open
// connections without a credential, each an open file: a local user holding as many as the schedd could open
// brought it to its open-files limit, where each new connection is accepted and closed at once, and root's
// dq and dsubmit failed (SCHEDD_UNREACHABLE) for as long as they were held. Now a client's connections are
// bounded, its oldest giving way to its newest. And every local user shares the loopback address, so the
// authentication challenges one host could have in flight were one user's to use up: a flood of BeginAuth
// from nobody kept another local user from a token. Now a challenge is kept by no one (its name is signed).
// And all local users were one client of the connection bound, so nobody opening connections without pause
// closed root's command connection within the command: now a connection whose calls carry a token counts
// against that token's user, and a user authenticating connections of their own closes only their own.
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { ROOT, TestPool } from '../integration/harness/pool.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobChange__Output } from '../../lib/rpc/generated/dsched/v1/JobChange.js';
import { connectionFlood, NOBODY } from './nobody.js';

const asRoot = process.getuid?.() === 0;

/** A hostile script run as nobody until its stdin closes; resolves once it printed its first line. */
function hostile(pool: TestPool, name: string, lines: string[]): Promise<{ child: ChildProcess; first: string }> {
  const path = join(pool.work, name);
  writeFileSync(
    path,
    [...lines, `process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`].join('\n'),
    {
      mode: 0o644,
    },
  );
  const loader = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const child = spawn(process.execPath, ['--import', `file://${loader}`, path], {
    uid: NOBODY.uid,
    gid: NOBODY.gid,
    env: { ...pool.env, ...NOBODY.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ child, first: out.split('\n')[0]! });
    });
    child.on('exit', (code) => reject(new Error(`${name} exited ${code} before it was ready`)));
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin!.end();
  });
}

describe('connections – one client cannot take them all', { skip: !asRoot && 'needs root (acts as uid 65534)' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(() => pool?.stop());

  test("security – a local user holding hundreds of connections to the schedd keeps neither root's commands nor a job's end out", async () => {
    const go = join(pool.work, 'conn.go');
    const cluster = await pool.submit(
      pool.file(
        'conn.sub',
        `executable = /bin/sh\narguments = "-c 'touch ${join(pool.work, 'conn.runs')}; while [ ! -e ${go} ]; do sleep 0.2; done'"\nqueue\n`,
      ),
    );
    await pool.waitFor('the job to run', () => pool.exists('conn.runs'));
    // the schedd's open-files limit lowered to what it has open and 200 more, as a busy schedd's would be
    // reached: the connections below would take all of those
    const schedd = pool.daemonPid('schedd');
    const line = readFileSync(`/proc/${schedd}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))!;
    const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
    const open = new Set(readdirSync(`/proc/${schedd}/fd`).map(Number));
    let lowestFree = 0;
    while (open.has(lowestFree)) lowestFree++;
    execFileSync('prlimit', [`--pid=${schedd}`, `--nofile=${lowestFree + 200}:${hard}`]);
    const [host, port] = [
      pool.daemonAddress('schedd').replace(/:\d+$/, ''),
      Number(pool.daemonAddress('schedd').split(':').pop()),
    ];
    let flood: ChildProcess | undefined;
    try {
      // plain TCP connections that send nothing: no credential, no TLS handshake
      ({ child: flood } = await hostile(pool, 'conn-flood.mts', [
        `import { connect } from 'node:net';`,
        `const held = [];`,
        `await Promise.all(Array.from({ length: 400 }, () => new Promise((resolve) => {`,
        `  const s = connect({ host: ${JSON.stringify(host.replace(/^\[|\]$/g, ''))}, port: ${port} }, () => resolve(undefined));`,
        `  s.on('error', () => resolve(undefined));`,
        `  held.push(s);`,
        `})));`,
        `console.log(JSON.stringify({ opened: held.length }));`,
      ]));
      const q = await pool.run('dq', ['-totals']);
      assert.equal(q.code, 0, `root's dq while nobody holds 400 connections: ${q.stderr}`);
      const second = await pool.submit(pool.file('conn2.sub', 'executable = /bin/true\nhold = true\nqueue\n'));
      assert.ok(second > cluster);
      writeFileSync(go, '');
      const [ad] = await pool.waitForHistory(cluster, 1);
      assert.equal(ad!.ExitCode, 0, 'the job ended and its end was recorded');
    } finally {
      await stop(flood);
      execFileSync('prlimit', [`--pid=${schedd}`, `--nofile=${soft}:${hard}`]);
    }
  });

  /** Root's watch of the queue (what `dq -watch`, `dwait` and `dtail` hold open), once its first state came;
   *  `alive` resolves true once it hears of `cluster`, false if the stream ended first. */
  async function rootWatch() {
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
    const stream = client.jobChanges({ ids: [], owners: [], projection: ['JobStatus'], spans: false });
    const seen = new Set<number>();
    let failure: string | undefined;
    const ended = new Promise<false>((resolve) => {
      stream.on('error', (e: grpc.ServiceError) => {
        failure = e.message;
        resolve(false);
      });
      stream.on('end', () => resolve(false));
    });
    const listeners = new Set<() => void>();
    const synced = new Promise<void>((resolve) =>
      stream.on('data', (m: JobChange__Output) => {
        if (Number(m.id?.proc) === -1) resolve();
        seen.add(Number(m.id?.cluster));
        for (const l of listeners) l();
      }),
    );
    await synced;
    const hears = (cluster: number) =>
      Promise.race([
        ended,
        new Promise<true>((resolve) => {
          const l = () => seen.has(cluster) && resolve(true);
          listeners.add(l);
          l();
        }),
      ]);
    return { client, stream, hears, failure: () => failure };
  }

  /**
   * nobody floods the schedd with connections (connectionFlood: `open` as there, default plain TCP) while root
   * watches the queue: root's watch must hear of a job submitted after it, and root's dq answer.
   */
  async function floodWhileRootWatches(name: string, imports: string[] = [], open?: string[]): Promise<void> {
    const watch = await rootWatch();
    let flood: ChildProcess | undefined;
    try {
      ({ child: flood } = await hostile(
        pool,
        `${name}.mts`,
        connectionFlood(pool.daemonAddress('schedd'), imports, open),
      ));
      const cluster = await pool.submit(pool.file(`${name}.sub`, 'executable = /bin/true\nhold = true\nqueue\n'));
      assert.equal(await watch.hears(cluster), true, `root's watch was cut off: ${watch.failure()}`);
      const q = await pool.run('dq', ['-totals']);
      assert.equal(q.code, 0, `root's dq after nobody's connections: ${q.stderr}`);
    } finally {
      watch.stream.cancel();
      watch.client.close();
      await stop(flood);
    }
  }

  test("security – a local user opening connections without pause closes none of root's command connections", async () => {
    // plain TCP connections, no credential: the oldest of this host's connections that showed no token give way
    // (nobody's own); root's, which carries a token, does not
    await floodWhileRootWatches('conn-churn');
  });

  test('security – a local user authenticating hundreds of connections as themselves closes only their own', async () => {
    const address = pool.daemonAddress('schedd');
    // each connection makes a call with nobody's own token (as the challenge gives nobody) before the next is
    // opened: nobody's own part is full after 256, and their oldest give way
    await floodWhileRootWatches(
      'conn-auth',
      [`import { connect } from 'node:http2';`, `import { readFileSync } from 'node:fs';`],
      [
        `  const s = connect('https://${address}', {`,
        `    ca: readFileSync(${JSON.stringify(join(pool.home, 'host', 'ca.crt'))}), checkServerIdentity: () => undefined });`,
        `  const r = s.request({ ':method': 'POST', ':path': '/dsched.v1.Schedd/Query', 'content-type': 'application/grpc',`,
        `    te: 'trailers', authorization: 'Bearer ${pool.token('nobody')}' });`,
        `  r.on('error', () => resolve(undefined));`,
        `  r.on('close', () => resolve(undefined));`,
        `  r.resume();`,
        `  r.end(Buffer.alloc(5));`,
      ],
    );
  });

  test('security – a flood of challenges from one local user keeps no other local user from a token', async () => {
    // nobody asks for challenges without end, many at once (no account needed: BeginAuth is open to anyone)
    const { child: flood } = await hostile(pool, 'auth-flood.mts', [
      `import { readFileSync } from 'node:fs';`,
      `import { ScheddClient } from ${JSON.stringify(join(ROOT, 'lib/rpc/clients/schedd.ts'))};`,
      // thousands asked at once, over several connections: every other challenge waits behind hundreds of them
      `const ca = readFileSync(${JSON.stringify(join(pool.home, 'host', 'ca.crt'))});`,
      `const clients = Array.from({ length: 4 }, () => new ScheddClient(${JSON.stringify(pool.daemonAddress('schedd'))}, { tls: { ca } }));`,
      `let told = false;`,
      `const one = async (c) => { for (;;) { await c.beginAuth('x').catch(() => undefined); if (!told) { told = true; console.log('{}'); } } };`,
      `for (let i = 0; i < 2000; i++) void one(clients[i % 4]);`,
    ]);
    try {
      // another local user (daemon, uid 1) with no token kept: the handshake, now, five times over
      for (let i = 0; i < 5; i++) {
        const r = await pool.run('dq', ['-totals'], { uid: 1, gid: 1, env: { USER: 'daemon', HOME: '/nonexistent' } });
        assert.equal(r.code, 0, `daemon's dq during nobody's flood: ${r.stderr}`);
      }
    } finally {
      await stop(flood);
    }
  });
});
