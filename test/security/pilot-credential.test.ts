// pilot credential – what an elastic pool's pilot holds (its one-time join token, then the host certificate
// the collector signs for it, with the startd and master roles only) lets it be an execute host and nothing
// more: neither as a bearer token nor as a certificate can it act as a schedd, the negotiator or an admin.
// The pilot joins as the provisioner's pilots do (`dsched join ADDRESS -`, the token on stdin) from a
// second home on this machine.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { MasterClient } from '../../lib/rpc/clients/master.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import { TestPool } from '../integration/harness/pool.js';

const refused = (code: string) => (e: { code?: string; message: string }) => {
  assert.equal(e.code, code, e.message);
  return true;
};

describe('pilot credential', () => {
  let pool: TestPool;
  let pilot = '';
  let token = '';
  let creds: ClientCredentials;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '1', MEMORY: '1024' });
    pilot = mkdtempSync(join(tmpdir(), 'dsched-pilot-'));
    chmodSync(pilot, 0o700);
    writeFileSync(join(pilot, 'config'), 'HOSTNAME = pilot-sec\nDAEMON_LIST = STARTD\n');
    const t = await pool.run('dsched', ['token', 'create', '--join', '--ttl', '10m']);
    assert.equal(t.code, 0, t.stderr);
    token = t.stdout.trim();
    const j = await pool.run('dsched', ['join', pool.daemonAddress('collector'), '-'], {
      env: { DSCHED_HOME: pilot },
      input: `${token}\n`,
    });
    assert.equal(j.code, 0, j.stderr);
    const host = join(pilot, 'host');
    creds = {
      tls: {
        ca: readFileSync(join(host, 'ca.crt')),
        cert: readFileSync(join(host, 'host.crt')),
        key: readFileSync(join(host, 'host.key')),
      },
    };
  });
  after(async () => {
    await pool?.stop();
    if (pilot) rmSync(pilot, { recursive: true, force: true });
  });

  const files = () =>
    ['join-tokens.json', 'issued.json', 'revoked.json'].map((f) =>
      existsSync(join(pool.home, 'spool', f)) ? readFileSync(join(pool.home, 'spool', f), 'utf8') : '',
    );

  test('pilot credential – the certificate names the pilot host with the startd and master roles only', () => {
    const cert = new X509Certificate(readFileSync(join(pilot, 'host', 'host.crt')));
    assert.equal(cert.subject, 'CN=pilot-sec');
    assert.equal(cert.subjectAltName, 'DNS:pilot-sec, URI:dsched:role:startd, URI:dsched:role:master');
    assert.equal(existsSync(join(pilot, 'ca')), false, 'the pilot holds no pool key');
  });

  test('pilot credential – the pilot certificate cannot act as a schedd, the negotiator or an admin', async () => {
    const before = files();
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), creds);
    const collector = new CollectorClient(pool.daemonAddress('collector'), creds);
    const startd = new StartdClient(pool.daemonAddress('startd'), creds);
    const master = new MasterClient(pool.daemonAddress('master'), creds);
    try {
      // a schedd's work: submitting, advertising a Scheduler ad, claiming a slot
      await assert.rejects(schedd.newCluster(), refused('PERMISSION_DENIED'));
      await assert.rejects(schedd.submit(1, { Owner: '"root"', Cmd: '"/bin/id"' }, [{}]), refused('PERMISSION_DENIED'));
      const ad = { MyType: '"Scheduler"', Name: '"pilot-sec"' };
      await assert.rejects(
        collector.advertise([{ type: 'Scheduler', name: 'pilot-sec', instance: 'x', lifetime: 60, ad: { attrs: ad } }]),
        refused('PERMISSION_DENIED'),
      );
      await assert.rejects(
        startd.requestClaim({ job: { attrs: { Owner: '"root"' } }, claim: 'c', activate: false } as never),
        refused('PERMISSION_DENIED'),
      );
      // the negotiator's: reading idle jobs to match, handing out matches
      await assert.rejects(schedd.idleAutoclusters('root@x'), refused('PERMISSION_DENIED'));
      await assert.rejects(schedd.matched([]), refused('PERMISSION_DENIED'));
      // an admin's: join tokens, revocations, drains, stopping the pool
      await assert.rejects(collector.createJoinToken(600), refused('PERMISSION_DENIED'));
      await assert.rejects(collector.revoke('pilot-other'), refused('PERMISSION_DENIED'));
      await assert.rejects(startd.drain(false, 'pilot says so'), refused('PERMISSION_DENIED'));
      await assert.rejects(master.shutdown(), refused('PERMISSION_DENIED'));
    } finally {
      for (const c of [schedd, collector, startd, master]) c.close();
    }
    assert.deepEqual(files(), before, 'no token made, no certificate issued or revoked');
    assert.deepEqual(await pool.json('dq', []), [], 'nothing was queued');
    const reader = new CollectorClient(pool.daemonAddress('collector'), pool.creds(pool.token('root')));
    const schedds = await reader.query('Scheduler').finally(() => reader.close());
    assert.ok(
      schedds.length > 0 && !schedds.some((a) => a.Name!.includes('pilot-sec')),
      'no Scheduler ad of the pilot',
    );
    const slot = (await pool.json('dstatus', [])).find((a) => String(a.Name).startsWith('slot1@'));
    assert.equal(slot?.State, 'Unclaimed', 'the pool startd was neither claimed nor drained');
    assert.equal((await pool.run('dsched', ['status'])).code, 0, 'the pool still runs');
  });

  test('pilot credential – the join token is no bearer token, and works once', async () => {
    const before = files();
    const bearer: ClientCredentials = { tls: { ca: creds.tls.ca }, token: () => token };
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), bearer);
    const collector = new CollectorClient(pool.daemonAddress('collector'), bearer);
    try {
      await assert.rejects(schedd.newCluster(), refused('UNAUTHENTICATED'));
      await assert.rejects(collector.createJoinToken(600), refused('UNAUTHENTICATED'));
    } finally {
      schedd.close();
      collector.close();
    }
    const other = mkdtempSync(join(tmpdir(), 'dsched-pilot-'));
    try {
      writeFileSync(join(other, 'config'), 'HOSTNAME = pilot-two\n');
      const again = await pool.run('dsched', ['join', pool.daemonAddress('collector'), '-'], {
        env: { DSCHED_HOME: other },
        input: `${token}\n`,
      });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /error\[UNAUTHENTICATED\]: the join token is unknown, already used or expired/);
      assert.equal(existsSync(join(other, 'host')), false, 'nothing installed');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    assert.deepEqual(files(), before, 'no certificate issued');
  });
});
