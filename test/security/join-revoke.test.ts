// join and revoke – a host joins with a one-time join token (its key made there), runs jobs with its own
// certificate, and once revoked is refused by the collector and the schedd and its ads are gone. The second
// host is a second home on this machine with its own HOSTNAME, reached over loopback.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';

const newHome = (config: string) => {
  const h = mkdtempSync(join(tmpdir(), 'dsched-joined-'));
  chmodSync(h, 0o755);
  writeFileSync(join(h, 'config'), config);
  return h;
};

describe('join and revoke', () => {
  let pool: TestPool;
  let nodeb = '';
  let nodec = '';
  let started = false;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '1', MEMORY: '1024' });
    nodeb = newHome('HOSTNAME = nodeb\nUPDATE_INTERVAL = 2\nNUM_CPUS = 1\nMEMORY = 1024\nKILL_GRACE = 2\n');
    nodec = newHome('HOSTNAME = nodec\n');
  });
  after(async () => {
    if (started) await pool.run('dsched', ['stop'], { env: { DSCHED_HOME: nodeb } }).catch(() => undefined);
    await pool?.stop();
    for (const h of [nodeb, nodec]) if (h) rmSync(h, { recursive: true, force: true });
  });

  const issued = () => readFileSync(join(pool.home, 'spool', 'issued.json'), 'utf8');
  const names = async () => (await pool.json('dstatus', [])).map((a) => String(a.Name));

  test('join – a join token works once; the joined host gets its own certificate and runs jobs', async () => {
    const t = await pool.run('dsched', ['token', 'create', '--join', '--ttl', '10m']);
    assert.equal(t.code, 0, t.stderr);
    const token = t.stdout.trim();
    assert.match(token, /^[0-9a-f]{8}\.[\w-]+\.[0-9a-f]{64}$/);
    // only a hash of the token is kept
    assert.equal(
      readFileSync(join(pool.home, 'spool', 'join-tokens.json'), 'utf8').includes(token.split('.')[1]!),
      false,
    );
    const collector = pool.daemonAddress('collector');
    const j = await pool.run('dsched', ['join', collector, token], { env: { DSCHED_HOME: nodeb } });
    assert.equal(j.code, 0, j.stderr);
    assert.match(j.stdout, /joined the pool .* as host nodeb \(roles startd, master\)/);
    const cert = new X509Certificate(readFileSync(join(nodeb, 'host', 'host.crt')));
    assert.equal(cert.subject, 'CN=nodeb');
    assert.equal(cert.subjectAltName, 'DNS:nodeb, URI:dsched:role:startd, URI:dsched:role:master');
    assert.equal(existsSync(join(nodeb, 'ca')), false, 'the joined host holds no pool key');

    // the same token again, from another host: refused, nothing issued, nothing installed
    const before = issued();
    const again = await pool.run('dsched', ['join', collector, token], { env: { DSCHED_HOME: nodec } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /error\[UNAUTHENTICATED\]: the join token is unknown, already used or expired/);
    assert.equal(issued(), before);
    assert.equal(existsSync(join(nodec, 'host')), false);

    // a token whose CA hash is not this pool's is refused before anything is sent
    const wrong = `${token.slice(0, -64)}${'0'.repeat(64)}`;
    const pinned = await pool.run('dsched', ['join', collector, wrong], { env: { DSCHED_HOME: nodec } });
    assert.equal(pinned.code, 1);
    assert.match(pinned.stderr, /does not present the pool CA the join token names/);

    const s = await pool.run('dsched', ['start'], { env: { DSCHED_HOME: nodeb } });
    assert.equal(s.code, 0, s.stderr);
    started = true;
    await pool.waitFor('slot1@nodeb in dstatus', async () => (await names()).includes('slot1@nodeb'));

    // the joined host's certificate has no schedd role: a client that wants a schedd refuses its startd
    const startdAddr = readFileSync(join(nodeb, 'run', 'startd.address'), 'utf8').split('\n')[0]!;
    const fake = new ScheddClient(startdAddr, pool.creds(pool.token('root', true)));
    await assert.rejects(fake.newCluster(), (e: { message: string }) => /not a schedd's/.test(e.message));
    fake.close();

    pool.file(
      'b.sub',
      'executable = /bin/echo\narguments = on nodeb\ninitialdir = /\noutput = /dev/null\nrequirements = Machine == "nodeb"\nqueue\n',
    );
    const c = await pool.submit('b.sub');
    const [h] = await pool.waitForHistory(c, 1);
    assert.equal(h!.ExitCode, 0);
    assert.match(String(h!.LastRemoteHost), /@nodeb$/);
  });

  test("revoke – a revoked host's ads vanish, and the collector and the schedd refuse it", async () => {
    assert.ok(started, 'the joined host runs (previous test)');
    const go = join(pool.work, 'go');
    pool.file(
      'wait.sh',
      `#!/bin/sh\nfor i in $(seq 1 1200); do [ -e ${go} ] && exit 0; sleep 0.1; done\nexit 1\n`,
      0o755,
    );
    pool.file('w.sub', 'executable = wait.sh\noutput = /dev/null\nrequirements = Machine == "nodeb"\nqueue\n');
    const c = await pool.submit('w.sub');
    await pool.waitFor(`job ${c} running on nodeb`, async () => {
      const [a] = await pool.json('dq', [String(c)]);
      return a?.JobStatus === 2 && /@nodeb$/.test(String(a.RemoteHost));
    });

    const r = await pool.run('dsched', ['revoke', 'nodeb']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /revoked host nodeb \(1 certificate\(s\)\)/);
    assert.equal(
      (await names()).some((n) => n.endsWith('@nodeb')),
      false,
      'its ads are gone at once',
    );
    const revoked = JSON.parse(readFileSync(join(pool.home, 'spool', 'revoked.json'), 'utf8')) as {
      hosts: Array<{ host: string; serials: string[] }>;
    };
    const serial = new X509Certificate(readFileSync(join(nodeb, 'host', 'host.crt'))).serialNumber
      .toLowerCase()
      .replace(/^0+/, '');
    assert.deepEqual(
      revoked.hosts.map((x) => [x.host, x.serials.map((s) => s.replace(/^0+/, ''))]),
      [['nodeb', [serial]]],
    );

    // the job ends: the startd's report is refused by the schedd, its next ad by the collector
    writeFileSync(go, '');
    const log = (home: string, d: string) => {
      try {
        return readFileSync(join(home, 'log', `${d}.log`), 'utf8');
      } catch {
        return '';
      }
    };
    await pool.waitFor('the schedd to refuse the revoked startd', () =>
      log(pool.home, 'schedd')
        .split('\n')
        .some((l) => l.includes('"msg":"refused call"') && l.includes('the certificate of host nodeb was revoked')),
    );
    await pool.waitFor('the collector to refuse the revoked startd', () =>
      /refused this startd's credential.*the certificate of host nodeb was revoked/.test(log(nodeb, 'startd')),
    );
    assert.equal(
      (await names()).some((n) => n.endsWith('@nodeb')),
      false,
      'and its ads stay gone',
    );

    // revoking it again: nothing live is left to revoke
    const twice = await pool.run('dsched', ['revoke', 'nodeb']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /error\[HOST_NOT_FOUND\]/);
  });
});
