// A user's WatchJobs streams that stop reading share the bounds of one (WATCH_BACKLOG changes, here 60, and
// its bytes): a user who opened many watchers and read none made the schedd keep a backlog for each (a thousand
// of them at 64 MB each is more memory than the host has), under each one's bound. Past the bound the user's
// watcher furthest behind is cut off with WATCHER_TOO_SLOW; another user's watcher is not touched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { DschedError } from '../../lib/errors.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobChange__Output } from '../../lib/rpc/generated/dsched/v1/JobChange.js';
import { TestPool } from '../integration/harness/pool.js';

// a large attribute in every job's ad: a reader that does not read fills the transport's buffers soon
const PAD = 'x'.repeat(16 * 1024);

describe('security – one user’s watchers share one backlog bound', () => {
  let pool: TestPool;
  let nobody: ScheddClient;
  let root: ScheddClient;

  before(async () => {
    pool = await TestPool.start({ WATCH_BACKLOG: '60' });
    // a user's own token, as the schedd's challenge gives it to nobody
    nobody = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    root = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root')));
    pool.file('padded.sub', `executable = /bin/true\nhold = true\n+Pad = "${PAD}"\nqueue 3\n`);
  });
  after(async () => {
    nobody?.close();
    root?.close();
    await pool?.stop();
  });

  /** A watch of the whole queue, resolved once its initial state has come (the marker 0.-1). */
  function watch(client: ScheddClient, spans: boolean) {
    const stream = client.jobChanges({ ids: [], owners: [], projection: spans ? ['JobStatus'] : [], spans });
    const seen: JobChange__Output[] = [];
    let error: DschedError | undefined;
    const ended = new Promise<void>((resolve) => {
      stream.on('error', (e: grpc.ServiceError) => {
        error = client.rpc.streamError(e) as DschedError;
        resolve();
      });
      stream.on('end', () => resolve());
    });
    const synced = new Promise<void>((resolve) =>
      stream.on('data', (m: JobChange__Output) => {
        seen.push(m);
        if (Number(m.id?.proc) === -1) resolve();
      }),
    );
    return { stream, seen, ended, synced, error: () => error };
  }

  test('security – watchers that read nothing: past the bound one of them is cut off, another user’s reader is not', async () => {
    const slow = Array.from({ length: 40 }, () => watch(nobody, false));
    const reader = watch(root, true);
    await Promise.all([...slow.map((w) => w.synced), reader.synced]);
    for (const w of slow) w.stream.pause(); // they read nothing more
    // 19 submissions of 3 jobs: fewer changes than the bound for any one watcher, even had the transport taken
    // none of them; more for the forty together unless the transport took nearly all of them
    const clusters: number[] = [];
    for (let i = 0; i < 19; i++) clusters.push(await pool.submit('padded.sub'));
    await pool.waitFor('the reader to hear of every submission', () =>
      clusters.every((c) => reader.seen.some((m) => Number(m.id?.cluster) === c)),
    );
    for (const w of slow) w.stream.resume();
    const last = clusters.at(-1)!;
    await pool.waitFor('each slow watcher to be cut off or catch up', () =>
      slow.every((w) => w.error() || w.seen.some((m) => Number(m.id?.cluster) === last && Number(m.id?.proc) === 2)),
    );
    const cut = slow.filter((w) => w.error());
    assert.ok(cut.length >= 1, 'at least one of the watchers that read nothing was cut off');
    for (const w of cut) {
      assert.equal(w.error()!.code, 'WATCHER_TOO_SLOW');
      assert.match(w.error()!.message, /more than 60 changes/);
    }
    assert.equal(reader.error(), undefined, "root's reader goes on");
    // the schedd goes on, and the reader still hears of changes
    const rm = await pool.run('drm', [String(clusters[0])]);
    assert.equal(rm.code, 0, rm.stderr);
    await pool.waitFor('the reader to hear of the removal', () =>
      reader.seen.some((m) => Number(m.id?.cluster) === clusters[0] && m.gone),
    );
    for (const w of [...slow, reader]) w.stream.cancel();
    await Promise.all([...slow, reader].map((w) => w.ended));
  });
});
