// Shared query answers over a real queue (SQLite in a temp dir): readers of one view are answered from one
// rendering, users' views are never shared, a queue change starts a new answer, and a reader that stops
// reading holds up the making of pages instead of letting them pile up in the schedd.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JobQueue } from '../../../daemons/schedd/queue.js';
import { QueryShare } from '../../../daemons/schedd/query-share.js';
import type { QueryPage } from '../../../daemons/schedd/query.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import type { Identity } from '../../../lib/rpc/auth.js';

const ROOT = { kind: 'user', name: 'root', admin: true } as Identity;
const ADMIN = { kind: 'user', name: 'operator', admin: true } as Identity;
const ALICE = { kind: 'user', name: 'alice', admin: false } as Identity;
const BOB = { kind: 'user', name: 'bob', admin: false } as Identity;
const OPTS = { cpuLimitSec: () => 30, privateAttrs: () => ['Secret'] };

type Req = Parameters<QueryShare['query']>[0];
const req = (r: Partial<Req> = {}): Req =>
  ({
    ids: [],
    owners: [],
    constraint: '',
    projection: [],
    history: false,
    limit: 0,
    counts_only: false,
    format: 'json',
    gzip: false,
    ...r,
  }) as Req;

describe('schedd shared query answers', () => {
  let dir: string;
  let q: JobQueue;
  let made = 0;
  let share: QueryShare;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsched-share-'));
    q = new JobQueue(openQueueDb(join(dir, 'q.db')));
    for (const [owner, n] of [
      ['alice', 3000],
      ['bob', 2],
    ] as const) {
      const c = q.reserveCluster(owner);
      const procs = Array.from({ length: n }, (_, i) => ({ ProcId: String(i) }));
      q.submit(
        c,
        owner,
        {
          Owner: JSON.stringify(owner),
          ClusterId: String(c),
          JobStatus: '5',
          Environment: `"TOKEN=${owner}-secret"`,
          Secret: '"s"',
          Cmd: '"/bin/true"',
          Blob: `"${'x'.repeat(2000)}"`,
        },
        procs,
      );
    }
    // a page's bytes: its text; every page made is counted (a 2 KB attribute per job: the listing is many pages)
    share = new QueryShare(q, OPTS, (p: QueryPage) => (made++, Buffer.from(p.text ?? '')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const read = async (who: Identity, r = req()) => {
    const out: Buffer[] = [];
    const matched = await share.query(
      r,
      who,
      (b) => void out.push(b),
      () => false,
    );
    return { text: Buffer.concat(out).toString(), matched };
  };

  test('query share – readers of one view at once, and one right after, are answered from one rendering', async () => {
    made = 0;
    const [a, b] = await Promise.all([read(ROOT), read(ADMIN)]);
    const once = made;
    assert.ok(once > 1, 'a listing of several pages');
    assert.equal(a.text, b.text);
    assert.equal(JSON.parse(a.text).length, 3002);
    assert.equal(a.matched?.held, 3002);
    const c = await read(ROOT);
    assert.equal(made, once, 'the queue did not change: no page made again');
    assert.equal(c.text, a.text);
    assert.equal(c.matched?.total, 3002);
  });

  test('query share – users see their own private attributes only, whoever asked first', async () => {
    made = 0;
    const [alice, bob] = await Promise.all([read(ALICE), read(BOB)]);
    assert.match(alice.text, /alice-secret/);
    assert.doesNotMatch(alice.text, /bob-secret/);
    assert.match(bob.text, /bob-secret/);
    assert.doesNotMatch(bob.text, /alice-secret/);
    const again = await read(BOB);
    assert.doesNotMatch(again.text, /alice-secret/);
  });

  test('query share – a change to the queue starts a new answer', async () => {
    const before = await read(ROOT);
    made = 0;
    const job = q.jobs.get(`${JSON.parse(before.text)[0].ClusterId}.0`)!;
    q.update(job, { JobPrio: '9' });
    share.invalidate();
    const now = await read(ROOT);
    assert.ok(made > 0);
    assert.equal(JSON.parse(now.text)[0].JobPrio, 9);
  });

  test('query share – a reader that stops reading holds up the making of pages; the rest comes when it reads again', async () => {
    share.invalidate();
    made = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const out: Buffer[] = [];
    const reading = share.query(
      req({ constraint: 'true' }),
      ROOT,
      (b) => (out.push(b), out.length === 1 ? held : undefined),
      () => false,
    );
    // many turns of the event loop: a maker that did not wait would make the whole listing meanwhile
    for (let i = 0; i < 500; i++) await new Promise((r) => setImmediate(r));
    const ahead = made;
    assert.ok(ahead >= 2 && ahead <= 20, `pages made while the reader waited: ${ahead}`);
    release();
    await reading;
    assert.ok(made > ahead);
    assert.equal(Buffer.concat(out).toString(), (await read(ROOT, req({ constraint: 'true' }))).text);
  });
});
