// transport – nothing travels in clear, a server is trusted only with the pool CA's certificate and the role
// the client meant to reach, a client certificate counts only from the pool CA, and no token carries daemon
// rights. The pool runs as root; the hostile clients are built from the library, as an attacker would.
import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { poolPaths } from '../../lib/config/paths.js';
import { ensurePoolCredentials } from '../../lib/pki/ca.js';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import { proto } from '../../lib/rpc/proto.js';
import { hostTls } from '../../lib/rpc/tls.js';
import { TestPool } from '../integration/harness/pool.js';

const QUERY = { ids: [], owners: [], constraint: '', projection: [], history: false, limit: 0 };
const code = (c: string) => (e: { code?: string }) => e.code === c;

/** A token with any claims, signed with the pool's real token key (an insider's forgery, or a replay). */
function forge(pool: TestPool, claims: Record<string, unknown>): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'EdDSA', typ: 'JWT' });
  const body = b64({
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 3600,
    jti: 'x',
    iss: 'dsched',
    ...claims,
  });
  const key = createPrivateKey(readFileSync(join(pool.home, 'ca', 'token.key')));
  return `${head}.${body}.${sign(null, Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
}

describe('transport', () => {
  let pool: TestPool;
  let other: string; // a home with another pool's CA and host credential
  before(async () => {
    pool = await TestPool.start();
    other = mkdtempSync(join(tmpdir(), 'dsched-other-ca-'));
    await ensurePoolCredentials(poolPaths(other), 'impostor', ['schedd', 'startd', 'collector']);
  });
  after(async () => {
    await pool?.stop();
    if (other) rmSync(other, { recursive: true, force: true });
  });

  test('transport – a plaintext client is refused', async () => {
    const Schedd = proto().Schedd as unknown as new (
      a: string,
      c: grpc.ChannelCredentials,
    ) => grpc.Client & Record<string, (...args: unknown[]) => unknown>;
    const c = new Schedd(pool.daemonAddress('schedd'), grpc.credentials.createInsecure());
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        c.Query(QUERY, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e: grpc.ServiceError | null) =>
          resolve(e),
        ),
      );
      assert.ok(err, 'the call failed');
      assert.notEqual(err.code, grpc.status.OK);
      assert.ok(
        [grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.DEADLINE_EXCEEDED].includes(err.code),
        `refused at the transport (${err.code}: ${err.details})`,
      );
    } finally {
      c.close();
    }
    // and the CLI, which speaks TLS, still works
    const r = await pool.run('dq', []);
    assert.equal(r.code, 0, r.stderr);
  });

  test('transport – a client facing a server certificate from another CA sends nothing, its token included', async () => {
    // an impostor with a certificate of another pool CA (all roles), listening like a daemon and keeping
    // every byte it is sent after the handshake
    const creds = hostTls(poolPaths(other));
    const received: Buffer[] = [];
    let handshakes = 0;
    const server = createTlsServer({ cert: creds.cert, key: creds.key, ALPNProtocols: ['h2'] }, (s: TLSSocket) => {
      handshakes++;
      s.on('data', (d: Buffer) => received.push(d));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const token = pool.token('root', true);
    const client = new ScheddClient(address, pool.creds(token));
    try {
      await assert.rejects(client.query(QUERY, { deadlineMs: 10_000 }), (e: { code?: string; message: string }) => {
        assert.equal(e.code, 'SCHEDD_UNREACHABLE', e.message);
        assert.match(e.message, /certificate/i);
        return true;
      });
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
    const all = Buffer.concat(received).toString('latin1');
    assert.equal(all.includes(token.split('.')[2]!), false, 'the token never reached the impostor');
    assert.equal(received.length, 0, `the impostor got no application data (${handshakes} handshake(s) done)`);
  });

  test('transport – a server of this pool is not trusted as the daemon of another host', async () => {
    // the schedd's certificate names this host: a client that expects the schedd of another host refuses it
    const c = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root', true)), 'some-other-host');
    try {
      await assert.rejects(c.query(QUERY, { deadlineMs: 10_000 }), (e: { code?: string; message: string }) =>
        /not some-other-host/.test(e.message),
      );
    } finally {
      c.close();
    }
  });

  test('transport – a daemon certificate from another CA counts as nothing', async () => {
    const impostor = hostTls(poolPaths(other));
    const creds = {
      tls: { ca: readFileSync(join(pool.home, 'ca', 'ca.crt')), cert: impostor.cert, key: impostor.key },
    };
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), creds);
    const collector = new CollectorClient(pool.daemonAddress('collector'), creds);
    try {
      await assert.rejects(schedd.jobEvents([]), code('UNAUTHENTICATED'));
      await assert.rejects(schedd.query(QUERY), code('UNAUTHENTICATED'));
      await assert.rejects(
        collector.advertise([
          {
            type: 'Machine',
            name: 'slot1@impostor',
            instance: 'x',
            lifetime: 60,
            ad: { attrs: { Name: '"slot1@impostor"', Machine: '"impostor"', MyAddress: '"127.0.0.1:1"' } },
          },
        ]),
        code('UNAUTHENTICATED'),
      );
    } finally {
      schedd.close();
      collector.close();
    }
    const names = (await pool.json('dstatus', [])).map((a) => String(a.Name));
    assert.equal(names.includes('slot1@impostor'), false, 'no ad of the impostor in the pool');
  });

  test('transport – a token cannot carry daemon rights: a daemon-shaped token is refused', async () => {
    const daemonTok = forge(pool, { sub: `daemon:schedd@${hostname()}` });
    const collector = new CollectorClient(pool.daemonAddress('collector'), pool.creds(daemonTok));
    const startd = new StartdClient(pool.daemonAddress('startd'), pool.creds(daemonTok));
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(daemonTok));
    try {
      await assert.rejects(
        collector.advertise([
          {
            type: 'Machine',
            name: 'slot1@fake',
            instance: 'x',
            lifetime: 60,
            ad: { attrs: { Name: '"slot1@fake"', Machine: '"fake"' } },
          },
        ]),
        (e: { code?: string; message: string }) => e.code === 'UNAUTHENTICATED' && /only name a user/.test(e.message),
      );
      await assert.rejects(startd.release('nothing'), code('UNAUTHENTICATED'));
      await assert.rejects(schedd.jobEvents([]), code('UNAUTHENTICATED'));
      // an HS256 token of the old shared-secret kind is refused too (alg confusion)
      const old = new ScheddClient(
        pool.daemonAddress('schedd'),
        pool.creds('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkYWVtb246eCIsImV4cCI6OTk5OTk5OTk5OX0.AAAA'),
      );
      await assert.rejects(old.query(QUERY), code('UNAUTHENTICATED'));
      old.close();
      // a real user token reaches the startd as a user, not a daemon
      const user = new StartdClient(pool.daemonAddress('startd'), pool.creds(pool.token('mallory')));
      await assert.rejects(user.release('nothing'), code('PERMISSION_DENIED'));
      user.close();
    } finally {
      collector.close();
      startd.close();
      schedd.close();
    }
    const names = (await pool.json('dstatus', [])).map((a) => String(a.Name));
    assert.equal(names.includes('slot1@fake'), false);
  });

  test('transport – a user of the host without the token key gets a token from the schedd and works over TLS', async () => {
    pool.file('n.sub', 'executable = /bin/true\nqueue\n');
    const r = await pool.run('dsubmit', ['n.sub'], { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const [h] = await pool.waitForHistory(cluster, 1);
    assert.equal(h!.Owner, 'nobody');
    // and cannot read the pool's keys
    const k = await pool.run('dsched', ['token', 'create', '--join'], {
      uid: 65534,
      gid: 65534,
      env: { USER: 'nobody', HOME: '/tmp' },
    });
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /error\[PERMISSION_DENIED\]/);
  });
});
