// A compromised execute host holds a startd's credential and reports on the jobs of its claims: its `update`
// events (usage, chirp, filled-in `$$()`) are folded into their ads. Chirp and dqedit keep a job's attributes
// within MAX_JOB_ATTRS_CHARS (job-ad-growth.test.ts); what a startd reports must too, and a startd may never say
// who a job is or change what the schedd records of it (its owner, its status, its files). Past that its
// attributes are refused and logged with its host; the rest of the update is taken and the job keeps running.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { MAX_JOB_ATTRS_CHARS } from '../../lib/job-attrs.js';
import { poolPaths } from '../../lib/config/paths.js';
import { hostTls } from '../../lib/rpc/tls.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from '../integration/harness/pool.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool';
const MIB = 1 << 20;
const CHUNK = 100_000;
const EVENTS = Math.ceil(MAX_JOB_ATTRS_CHARS / (10 * CHUNK)) + 2;

describe('security – job updates from a startd', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test("security – a startd's updates cannot grow a job past MAX_JOB_ATTRS_CHARS nor change who it is; the job is kept", async () => {
    const sub = pool.file('sleep.sub', 'executable = /bin/sleep\narguments = 600\nlog = sleep.log\nqueue\n');
    const cluster = await pool.submit(sub);
    const before = await pool.waitFor('the job to run', async () => {
      const [j] = await pool.json('dq', [String(cluster)]);
      return j?.JobStatus === 2 ? j : undefined;
    });
    const db = new Database(join(pool.home, 'spool', 'job_queue.db'), { readonly: true });
    const { claim_id: claim } = db
      .prepare('SELECT claim_id FROM jobs WHERE cluster_id = ? AND proc_id = 0')
      .get(cluster) as { claim_id: string };
    db.close();
    assert.ok(claim, 'the running job has a claim');

    // the hostile client: this host's credential, as the startd of the job's claim holds it
    const schedd = new ScheddClient(pool.daemonAddress('schedd'), { tls: hostTls(poolPaths(pool.home)) });
    const id = { cluster, proc: 0 };
    const update = (seq: string, attrs: Record<string, string>) =>
      schedd.jobEvents([{ claim, id, type: 'update', seq, time: 0, update: { attrs } }]);
    try {
      // 100,000 characters a value, ten values an event, as a job's chirps would (a ClassAd is at most 1 MiB)
      for (let i = 0; i < EVENTS; i++) {
        const attrs: Record<string, string> = {};
        for (let j = 1; j <= 10; j++) attrs[`Big${i * 10 + j}`] = `"${'a'.repeat(CHUNK)}"`;
        await update(`grow-${i}`, attrs);
      }
      // a value no ClassAd holds: one too large, one that does not parse (either would hide the job's ad)
      // (and numbers that look plain but are none: an octal-looking one, one past 64 bits)
      await update('unreadable', {
        Huge: `"${'b'.repeat(MIB + 1)}"`,
        Broken: '((((',
        Octal: '007',
        Wide: '12345678901234567890',
      });
      await update('identity', {
        Owner: '"root"',
        JobStatus: '4',
        UserLog: '"/tmp/elsewhere.log"',
        RequestMemory: '1',
        AccountingGroup: '"group_admins.root"',
        // the usage a startd does report is taken
        RemoteUserCpu: '12.5',
        ResidentSetSize: '2048',
      });
    } finally {
      schedd.close();
    }

    const [ad] = await pool.json('dq', [String(cluster)]);
    assert.ok(ad, 'the job is kept, and its ad can be read');
    assert.equal(ad.JobStatus, 2, 'still running');
    const big = Object.keys(ad).filter((k) => /^Big\d+$/.test(k));
    assert.ok(big.length > 10 && big.length < Math.ceil(MAX_JOB_ATTRS_CHARS / CHUNK), `${big.length} taken`);
    assert.equal(ad.Huge, undefined);
    assert.equal(ad.Broken, undefined);
    assert.equal(ad.Octal, undefined);
    assert.equal(ad.Wide, undefined);
    assert.ok(JSON.stringify(ad).length < MAX_JOB_ATTRS_CHARS + 64 * 1024, 'the queued ad stays within the bound');
    for (const k of ['Owner', 'UserLog', 'RequestMemory'] as const) assert.deepEqual(ad[k], before[k], k);
    assert.equal(ad.AccountingGroup, before.AccountingGroup);
    assert.equal(ad.RemoteUserCpu, 12.5);
    assert.equal(ad.ResidentSetSize, 2048);
    const logged = readFileSync(join(pool.home, 'log', 'schedd.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('refused job attributes a startd reported'));
    assert.ok(logged.length >= 1, 'the refusal is logged');
    assert.match(logged[0]!, /"host":"[^"]+"/);
    assert.match(logged[0]!, /"cluster":\d+/);

    const rm = await pool.run('drm', [String(cluster)]);
    assert.equal(rm.code, 0, rm.stderr);
    await pool.waitForHistory(cluster, 1);
  });
});
