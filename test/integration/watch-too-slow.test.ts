// A WatchJobs reader that stops reading is cut off with WATCHER_TOO_SLOW once the changes waiting for it pass
// WATCH_BACKLOG (here 50): the schedd neither keeps them without bound nor stalls, a watcher that reads goes on
// as before, and the one cut off can watch again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { DschedError } from '../../lib/errors.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobChange__Output } from '../../lib/rpc/generated/dsched/v1/JobChange.js';
import { TestPool } from './harness/pool.js';

// a large attribute in every job's ad: a reader that does not read fills the transport's buffers soon
const PAD = 'x'.repeat(16 * 1024);

describe('WatchJobs – a reader that does not read is cut off', () => {
  let pool: TestPool;
  let client: ScheddClient;

  before(async () => {
    pool = await TestPool.start({ WATCH_BACKLOG: '50' });
    client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
    pool.file('padded.sub', `executable = /bin/true\nhold = true\n+Pad = "${PAD}"\nqueue 20\n`);
  });
  after(async () => {
    client?.close();
    await pool?.stop();
  });

  /** A watch of the whole queue, resolved once its initial state has come (the marker 0.-1). */
  function watch(spans: boolean) {
    const stream = client.jobChanges({ ids: [], owners: [], projection: spans ? ['JobStatus'] : [], spans });
    const seen: JobChange__Output[] = [];
    const ended = new Promise<DschedError | undefined>((resolve) => {
      stream.on('error', (e: grpc.ServiceError) => resolve(client.rpc.streamError(e) as DschedError));
      stream.on('end', () => resolve(undefined));
    });
    const synced = new Promise<void>((resolve) =>
      stream.on('data', (m: JobChange__Output) => {
        seen.push(m);
        if (Number(m.id?.proc) === -1) resolve();
      }),
    );
    return { stream, seen, ended, synced };
  }

  test('a watcher that stops reading gets WATCHER_TOO_SLOW; one that reads does not; the schedd is fine', async () => {
    const slow = watch(false);
    const reader = watch(true);
    await Promise.all([slow.synced, reader.synced]);
    slow.stream.pause(); // it reads nothing more
    // submissions of 20 jobs each: fewer than the bound at a time, far more than it in all
    const clusters: number[] = [];
    for (let i = 0; i < 30; i++) clusters.push(await pool.submit('padded.sub'));
    // the reader is told of every one of them, in a message per submission (spans)
    await pool.waitFor('the reader to hear of every submission', () =>
      clusters.every((c) => reader.seen.some((m) => Number(m.id?.cluster) === c)),
    );
    // the one that stopped finds, once it reads again, that its stream was ended
    slow.stream.resume();
    const err = await slow.ended;
    assert.ok(err instanceof DschedError, `the slow watcher's stream ends with an error (${String(err)})`);
    assert.equal(err.code, 'WATCHER_TOO_SLOW');
    assert.match(err.message, /more than 50 changes/);
    const heard = new Set(slow.seen.map((m) => Number(m.id?.cluster)));
    assert.ok(
      clusters.some((c) => !heard.has(c)),
      'it was cut off before it was told of everything',
    );

    // the schedd goes on: queries answer, the reader still hears of changes, and a new watch works
    const totals = await pool.run('dq', ['-totals']);
    assert.equal(totals.code, 0, totals.stderr);
    assert.match(totals.stdout, /Total for query: 600 jobs;/);
    const rm = await pool.run('drm', [String(clusters[0])]);
    assert.equal(rm.code, 0, rm.stderr);
    await pool.waitFor('the reader to hear of the removal', () =>
      reader.seen.some((m) => Number(m.id?.cluster) === clusters[0] && m.gone),
    );
    const again = watch(true);
    await again.synced;
    assert.ok(again.seen.some((m) => Number(m.id?.cluster) === clusters[1]));
    again.stream.cancel();
    reader.stream.cancel();
    await Promise.all([again.ended, reader.ended]);
  });
});
