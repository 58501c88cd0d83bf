// A large submission whose procs have attributes of their own goes to the schedd in pieces as dsubmit makes
// them (Schedd.SubmitPieces), so dsubmit never holds them all: it is queued whole, each proc with its own
// attributes, or not at all – a submitter that goes away mid-way, or a stream that ends short of what it
// announced, leaves nothing in the queue, and the schedd goes on serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from './harness/pool.js';

const JOBS = 12_345;

describe('submission in pieces – all or nothing', () => {
  let pool: TestPool;
  let client: ScheddClient;
  const queued = async () => (await pool.run('dq', ['-af', 'ClusterId'])).stdout.split('\n').filter(Boolean).length;

  before(async () => {
    pool = await TestPool.start();
    client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
  });
  after(async () => {
    client?.close();
    await pool?.stop();
  });

  test('dsubmit of a large queue with an argument per proc queues every proc with its own', async () => {
    pool.file('args.sub', `executable = /bin/echo\narguments = p$(Process)\nhold = true\nqueue ${JOBS}\n`);
    const cluster = await pool.submit('args.sub');
    const r = await pool.run('dq', [String(cluster), '-af', 'ProcId', 'Args']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, JOBS);
    assert.ok(
      lines.every((l) => {
        const [p, a] = l.split(' ');
        return a === `p${p}`;
      }),
      'each proc has its own arguments',
    );
    assert.equal((await pool.run('drm', [String(cluster)])).code, 0);
    await pool.waitFor('the queue to empty', async () => (await queued()) === 0);
  });

  test('a submitter that goes away mid-way leaves nothing queued', async () => {
    const { cluster } = await client.newCluster();
    const procs = function* () {
      for (let i = 0; i < JOBS; i++) {
        if (i === 10_500) throw new Error('the submitter died');
        yield { ProcId: String(i), Args: `"${i}"` };
      }
    };
    await assert.rejects(
      client.submitPieces(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5' }, JOBS, procs()),
      /the submitter died/,
    );
    // the schedd answers, and the cluster was never queued
    const r = await pool.run('dq', [String(cluster), '-af', 'ProcId']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(await queued(), 0);
  });

  test('a stream that ends short of the procs it announced is refused, and queues nothing', async () => {
    const { cluster } = await client.newCluster();
    const procs = Array.from({ length: 20 }, (_, i) => ({ ProcId: String(i), Args: `"${i}"` }));
    await assert.rejects(
      client.submitPieces(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5' }, 21, procs),
      (e: Error & { code?: string }) => e.code === 'SUBMIT_QUEUE' && /ended after 20 of the 21/.test(e.message),
    );
    await assert.rejects(
      client.submitPieces(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5' }, 19, procs),
      (e: Error & { code?: string }) => e.code === 'SUBMIT_QUEUE' && /more procs than the 19/.test(e.message),
    );
    assert.equal(await queued(), 0);
    // the same cluster id is still the submitter's to queue
    const ok = await client.submitPieces(Number(cluster), { Cmd: '"/bin/true"', JobStatus: '5' }, 20, procs);
    assert.equal(ok.procs, 20);
    assert.equal(await queued(), 20);
  });
});
