// The schedd keeps each authentication challenge it gives (BeginAuth, open to anyone) for a minute, and at
// most 10,000 at once: past that it refused every BeginAuth, so anyone who could reach the schedd, with no
// account anywhere, kept every user from a token with 10,000 calls a minute. Now a challenge is kept by no one
// (its name is signed, daemons/schedd/fs-auth.ts): a flood takes no one's place. And each challenge kept the
// name the caller asked as, up to 2 MiB and never used: 10,000 of them held 20 GB of the schedd's memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY } from './nobody.js';

describe('authentication challenges – a flood', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(() => pool.stop());

  const rssMb = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pool.daemonPid('schedd')}/status`, 'utf8'))![1]) / 1024;

  test("security – challenges asked for with a huge user name do not hold the schedd's memory", async () => {
    const anon = new ScheddClient(pool.daemonAddress('schedd'), {
      tls: { ca: readFileSync(join(pool.home, 'host', 'ca.crt')) },
    });
    const before = rssMb();
    try {
      const name = 'x'.repeat(1 << 20);
      for (let sent = 0; sent < 400; sent += 4)
        await Promise.all(Array.from({ length: 4 }, () => anon.beginAuth(name)));
    } finally {
      anon.close();
    }
    // 400 MiB of names were sent; kept, they would be held still
    const grown = rssMb() - before;
    assert.ok(grown < 200, `the schedd grew by ${Math.round(grown)} MB`);
  });

  test('security – 10,000 challenges asked for and never answered keep no one else from a token', async () => {
    // no credential at all: a client anyone on the network could run
    const anon = new ScheddClient(pool.daemonAddress('schedd'), {
      tls: { ca: readFileSync(join(pool.home, 'host', 'ca.crt')) },
    });
    try {
      for (let sent = 0; sent < 10_050; sent += 250)
        await Promise.all(Array.from({ length: 250 }, () => anon.beginAuth('nobody').catch(() => undefined)));
    } finally {
      anon.close();
    }
    // a user with no token kept: the handshake, now
    const r = await pool.run('dq', ['-totals'], { ...NOBODY, env: { ...NOBODY.env, HOME: '/nonexistent' } });
    assert.equal(r.code, 0, r.stderr);
  });
});
