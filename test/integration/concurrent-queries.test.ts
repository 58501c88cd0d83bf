// Many readers of one queue at once: twenty dq -json started together each get the whole queue, the same as
// one alone, while a submission made meanwhile is acknowledged and then listed; another user's view of the
// same ads still leaves out the private attributes. Behaviour only: bench/concurrent-queries.ts measures
// the times.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool, type RunOptions } from './harness/pool.js';

const JOBS = 2000;
const READERS = 20;
const asRoot = process.getuid?.() === 0;
const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('concurrent queries', () => {
  let pool: TestPool;
  let cluster: number;
  before(async () => {
    pool = await TestPool.start();
    pool.file('held.sub', `executable = /bin/true\nhold = true\nenvironment = "TOKEN=secret"\nqueue ${JOBS}\n`);
    cluster = await pool.submit('held.sub');
  });
  after(async () => {
    await pool?.stop();
  });

  test(`${READERS} dq -json at once each list the whole queue, as one alone does, while a submission is acknowledged`, async () => {
    const alone = await pool.run('dq', ['-json']);
    assert.equal(alone.code, 0, alone.stderr);
    const want = JSON.parse(alone.stdout) as Array<Record<string, unknown>>;
    assert.equal(want.length, JOBS);

    pool.file('one.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const readers = Array.from({ length: READERS }, () => pool.run('dq', ['-json'], { timeoutMs: 300_000 }));
    const submitted = pool.submit('one.sub', [], { timeoutMs: 300_000 });
    const [answers, added] = await Promise.all([Promise.all(readers), submitted]);
    for (const r of answers) {
      assert.equal(r.code, 0, r.stderr);
      // the job submitted meanwhile is in some answers and not in others; the rest is the same queue
      const ads = (JSON.parse(r.stdout) as Array<Record<string, unknown>>).filter((a) => a.ClusterId !== added);
      assert.deepEqual(ads, want);
    }
    const later = await pool.json('dq', [String(added)]);
    assert.equal(later.length, 1);
    assert.equal(later[0]!.ClusterId, added);
  });

  test(
    'another user reading the same ads at once sees them without their private attributes',
    { skip: !asRoot && 'needs root (runs dq as uid 65534)' },
    async () => {
      const [owner, other] = await Promise.all([
        pool.run('dq', ['-json', String(cluster)]),
        pool.run('dq', ['-json', String(cluster)], NOBODY),
      ]);
      assert.equal(owner.code, 0, owner.stderr);
      assert.equal(other.code, 0, other.stderr);
      const mine = JSON.parse(owner.stdout) as Array<Record<string, unknown>>;
      const theirs = JSON.parse(other.stdout) as Array<Record<string, unknown>>;
      assert.equal(theirs.length, JOBS);
      assert.equal(mine[0]!.Environment, 'TOKEN=secret');
      for (const [i, ad] of theirs.entries()) {
        assert.equal(ad.Environment, undefined);
        const { Environment: _, ...rest } = mine[i]!;
        assert.deepEqual(ad, rest);
      }
    },
  );
});
