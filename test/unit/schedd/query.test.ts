// The schedd's paged job query over a real queue (SQLite in a temp dir): order, pages and yielding, ids as sets,
// counts kept as jobs change, private attributes, the time budget, and history a page at a time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JobQueue } from '../../../daemons/schedd/queue.js';
import { JobStatus } from '../../../lib/job-status.js';
import { runJobQuery, selectJobs, type QueryPage } from '../../../daemons/schedd/query.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import type { Identity } from '../../../lib/rpc/auth.js';
import { DschedError } from '../../../lib/errors.js';
import { proto } from '../../../lib/rpc/proto.js';

const ROOT = { kind: 'user', name: 'root', admin: true } as Identity;
const ALICE = { kind: 'user', name: 'alice', admin: false } as Identity;
const BOB = { kind: 'user', name: 'bob', admin: false } as Identity;
const DAEMON = { kind: 'daemon', name: 'negotiator@host', admin: false } as unknown as Identity;
const OPTS = { cpuLimitSec: () => 30, privateAttrs: () => ['Secret'] };

type Req = Parameters<typeof runJobQuery>[1];
const req = (r: Partial<Req>): Req =>
  ({ ids: [], owners: [], constraint: '', projection: [], history: false, limit: 0, counts_only: false, ...r }) as Req;

async function run(
  q: JobQueue,
  r: Partial<Req>,
  who: Identity = ROOT,
  opts = OPTS,
): Promise<{ pages: QueryPage[]; ads: Array<Record<string, string>>; last: QueryPage }> {
  const pages: QueryPage[] = [];
  await runJobQuery(q, req(r), who, opts, (p) => void pages.push(p));
  return { pages, ads: pages.flatMap((p) => p.ads.map((a) => a.attrs)), last: pages[pages.length - 1]! };
}

function submit(q: JobQueue, owner: string, n: number, extra: Record<string, string> = {}) {
  const c = q.reserveCluster(owner);
  const procs = Array.from({ length: n }, (_, i) => ({ ProcId: String(i) }));
  return q.submit(
    c,
    owner,
    {
      Owner: JSON.stringify(owner),
      ClusterId: String(c),
      JobStatus: '1',
      Environment: '"TOKEN=abc"',
      Secret: '"s"',
      Cmd: '"/bin/true"',
      ...extra,
    },
    procs,
  );
}

describe('schedd job query', () => {
  let dir: string;
  let q: JobQueue;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsched-query-'));
    q = new JobQueue(openQueueDb(join(dir, 'q.db')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every job in (cluster, proc) order, in pages, with the event loop running between them', async () => {
    const a = submit(q, 'alice', 2500);
    const b = submit(q, 'bob', 3);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const pagesSeenAtTick: number[] = [];
    const pages: QueryPage[] = [];
    await runJobQuery(q, req({ projection: ['ClusterId', 'ProcId'] }), ROOT, OPTS, (p) => {
      pages.push(p);
      pagesSeenAtTick.push(ticks);
    });
    clearInterval(timer);
    const ads = pages.flatMap((p) => p.ads.map((x) => x.attrs));
    assert.equal(ads.length, 2503);
    assert.deepEqual(ads[0], { ClusterId: String(a[0]!.cluster), ProcId: '0' });
    assert.deepEqual(ads[2500], { ClusterId: String(b[0]!.cluster), ProcId: '0' });
    assert.ok(pages.every((p) => p.ads.length <= 1000));
    assert.ok(pages.length >= 3);
    assert.ok(pagesSeenAtTick[pagesSeenAtTick.length - 1]! > pagesSeenAtTick[0]!, 'timers ran while the query went on');
    assert.equal(pages[pages.length - 1]!.last, true);
  });

  test('ids are matched as sets (whole clusters and single procs), a thousand and more', async () => {
    const [first] = q.clusterIds();
    const ids = Array.from({ length: 1200 }, (_, i) => ({ cluster: first!, proc: 2 * i }));
    const { ads } = await run(q, { ids, projection: ['ProcId'] });
    assert.equal(ads.length, 1200);
    assert.equal(ads[1]!.ProcId, '2');
    const both = await run(q, {
      ids: [
        { cluster: first!, proc: 5 },
        { cluster: first!, proc: -1 },
      ],
      projection: ['ProcId'],
    });
    assert.equal(both.ads.length, 2500, 'a proc named besides its whole cluster is listed once');
  });

  test('counts come from the queue and follow status changes and finished jobs', async () => {
    let { last } = await run(q, { counts_only: true });
    assert.equal(last.ads.length, 0);
    assert.equal(last.matched!.total, 2503);
    assert.equal(last.matched!.idle, 2503);
    const bob = [...q.jobs.values()].filter((j) => j.owner === 'bob');
    q.update(bob[0]!, {}, JobStatus.Held);
    q.finish(bob[1]!, JobStatus.Removed);
    ({ last } = await run(q, { counts_only: true, owners: ['bob'] }, BOB));
    assert.deepEqual(
      { ...last.matched! },
      { total: 2, completed: 0, removed: 0, idle: 1, running: 0, held: 1, suspended: 0 },
    );
    assert.equal(last.mine!.total, 2);
    assert.equal(last.all!.total, 2502);
    // with a constraint they are counted as the jobs are evaluated
    ({ last } = await run(q, { counts_only: true, constraint: 'JobStatus == 5' }));
    assert.equal(last.matched!.total, 1);
    assert.equal(last.matched!.held, 1);
  });

  test('private attributes: shown to the owner, admins and daemons; neither shown nor testable for others', async () => {
    const id = [{ cluster: q.clusterIds()[0]!, proc: 0 }];
    for (const who of [ALICE, ROOT, DAEMON]) {
      const { ads } = await run(q, { ids: id }, who);
      assert.equal(ads[0]!.Environment, '"TOKEN=abc"', who.name);
      assert.equal(ads[0]!.Secret, '"s"', who.name);
    }
    const { ads } = await run(q, { ids: id }, BOB);
    assert.equal(ads[0]!.Environment, undefined);
    assert.equal(ads[0]!.Secret, undefined);
    assert.equal(ads[0]!.Cmd, '"/bin/true"');
    const projected = await run(q, { ids: id, projection: ['Environment', 'Secret', 'ProcId'] }, BOB);
    assert.deepEqual(projected.ads[0], { ProcId: '0' });
    for (const c of [
      'regexp("TOKEN", Environment)',
      'Secret == "s"',
      'eval("Secret") == "s"',
      'unparse(Environment) != ""',
    ]) {
      const probe = await run(q, { constraint: c, owners: ['alice'], counts_only: true }, BOB);
      assert.equal(probe.last.matched!.total, 0, c);
      const own = await run(q, { constraint: c, owners: ['alice'], counts_only: true }, ALICE);
      assert.equal(own.last.matched!.total, 2500, c);
    }
  });

  test("an action selects as a query does: ids as sets, and a constraint that does not see other users' private attributes", async () => {
    const alice = [...q.jobs.values()].filter((j) => j.owner === 'alice');
    const cl = alice[0]!.cluster;
    const sel = (constraint: string, who: Identity) =>
      selectJobs(q, { ids: [], owners: [], constraint, all: false }, who, OPTS);
    assert.equal((await sel('regexp("TOKEN", Environment)', BOB)).jobs.filter((j) => j.owner === 'alice').length, 0);
    assert.equal(
      (await sel('regexp("TOKEN", Environment)', ALICE)).jobs.filter((j) => j.owner === 'alice').length,
      alice.length,
    );
    assert.equal((await sel(`ClusterId == ${cl}`, BOB)).jobs.length, alice.length);
    const byIds = await selectJobs(
      q,
      {
        ids: [
          { cluster: cl, proc: -1 },
          { cluster: cl, proc: 3 },
          { cluster: 99_999, proc: -1 },
          { cluster: cl, proc: 99_999 },
        ],
        owners: [],
        constraint: '',
        all: false,
      },
      BOB,
      OPTS,
    );
    assert.equal(byIds.jobs.length, alice.length);
    assert.deepEqual(byIds.missing, [
      { cluster: 99_999, proc: -1 },
      { cluster: cl, proc: 99_999 },
    ]);
    assert.equal((await selectJobs(q, { ids: [], owners: [], constraint: '', all: false }, BOB, OPTS)).jobs.length, 0);
  });

  test('a projection brings the attributes its expressions refer to', async () => {
    const j = submit(q, 'carol', 1, {
      RequestMemory: 'ifThenElse(MemoryUsage > 0, MemoryUsage, 128)',
      MemoryUsage: '64',
    });
    const { ads } = await run(q, { ids: [{ cluster: j[0]!.cluster, proc: 0 }], projection: ['requestmemory'] });
    assert.deepEqual(Object.keys(ads[0]!).sort(), ['MemoryUsage', 'RequestMemory']);
  });

  test("whole ads sent as wire bytes decode to exactly the merged ads: same keys in the same order, the proc's values, private attributes left out", async () => {
    const [j] = submit(q, 'dora', 1, { Note: '"naïve ✓"', Big: `"${'x'.repeat(300)}"` });
    q.update(j!, { Cmd: '"/bin/false"', Extra: '7', Secret: null });
    const codec = (
      proto().Schedd as unknown as {
        service: Record<
          string,
          {
            responseSerialize(v: unknown): Buffer;
            responseDeserialize(b: Buffer): { ads: Array<{ attrs: Record<string, string> }> };
          }
        >;
      }
    ).service.QueryJobs!;
    for (const who of [ROOT, BOB]) {
      const plain = await run(q, {}, who);
      const wire: QueryPage[] = [];
      await runJobQuery(
        q,
        req({}),
        who,
        OPTS,
        (p) => void wire.push(p),
        () => false,
        true,
      );
      const decoded = wire.flatMap((p) =>
        codec
          .responseDeserialize(
            Buffer.concat([p.wire ?? Buffer.alloc(0), codec.responseSerialize({ ...p, wire: undefined })]),
          )
          .ads.map((a) => a.attrs),
      );
      assert.equal(decoded.length, plain.ads.length);
      for (let i = 0; i < decoded.length; i++) {
        assert.deepEqual(Object.entries(decoded[i]!), Object.entries(plain.ads[i]!));
      }
      const mine = decoded.find((a) => a.Owner === '"dora"')!;
      assert.equal(mine.Cmd, '"/bin/false"');
      assert.equal(mine.Secret, who === ROOT ? 'undefined' : undefined);
      assert.equal(mine.Note, '"naïve ✓"');
      assert.equal(mine.Environment, who === ROOT ? '"TOKEN=abc"' : undefined);
    }
  });

  test('a query past its time budget ends with QUERY_TOO_EXPENSIVE naming the constraint', async () => {
    const costly = `size(replaceAll("a", "${'a'.repeat(50_000)}", "bb")) < 0`;
    await assert.rejects(
      runJobQuery(q, req({ constraint: costly }), BOB, { ...OPTS, cpuLimitSec: () => 1 }, () => {}),
      (e: unknown) =>
        e instanceof DschedError && e.code === 'QUERY_TOO_EXPENSIVE' && e.message.includes('size(replaceAll'),
    );
  });

  test('history: newest first, in pages of statements, ids as sets, limit', async () => {
    const jobs = [...q.jobs.values()].filter((j) => j.owner === 'alice');
    for (const j of jobs) q.finish(j, JobStatus.Removed);
    q.flush();
    const cl = jobs[0]!.cluster;
    const all = await run(q, { history: true, ids: [{ cluster: cl, proc: -1 }], projection: ['ProcId'] });
    assert.equal(all.ads.length, 2500);
    assert.equal(all.last.matched!.removed, 2500);
    const some = await run(q, {
      history: true,
      ids: Array.from({ length: 1000 }, (_, i) => ({ cluster: cl, proc: i })),
      projection: ['ProcId'],
    });
    assert.equal(some.ads.length, 1000);
    assert.equal(new Set(some.ads.map((a) => a.ProcId)).size, 1000);
    const limited = await run(q, { history: true, limit: 7 });
    assert.equal(limited.ads.length, 7);
    const hidden = await run(q, { history: true, ids: [{ cluster: cl, proc: 0 }] }, BOB);
    assert.equal(hidden.ads[0]!.Environment, undefined);
  });
});
