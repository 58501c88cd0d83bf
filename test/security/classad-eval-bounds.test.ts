// One user's Requirements cannot stall matchmaking for the pool: a chain of attributes each doubling the previous
// string (2^30 work without a bound) evaluates to error in the negotiator and startd, and another user's job,
// submitted after it, is still matched and run. Printing an expression or a list (unparse(), string()) is
// charged as parsing it is.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClassAd } from '../../grammar/classad/index.js';
import { TestPool } from '../integration/harness/pool.js';

const NOBODY = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('ClassAd evaluation bounds in a real pool', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('a doubling-chain Requirements does not stop another user’s job from running', async () => {
    const dir = join(pool.work, 'hostile');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    let chain = '+A0 = "x"\n';
    for (let i = 1; i <= 30; i++) chain += `+A${i} = strcat(A${i - 1}, A${i - 1})\n`;
    pool.file(
      'hostile/hostile.sub',
      `executable = /bin/true\n${chain}requirements = size(A30) > 0 && TARGET.OpSys =!= undefined\nqueue\n`,
    );
    const h = await pool.run('dsubmit', ['hostile.sub'], { ...NOBODY, cwd: dir });
    assert.equal(h.code, 0, h.stderr);

    pool.file('good.sub', 'executable = /bin/sh\narguments = "-c \'echo ran\'"\noutput = good.out\nqueue\n');
    const g = await pool.run('dsubmit', ['good.sub']);
    assert.equal(g.code, 0, g.stderr);
    const cluster = Number(/cluster (\d+)/.exec(g.stdout)![1]);
    const [ad] = await pool.waitForHistory(cluster, 1);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(pool.read('good.out'), 'ran\n');

    // the hostile job never matched: still idle in the queue
    const hc = Number(/cluster (\d+)/.exec(h.stdout)![1]);
    const q = await pool.run('dq', [String(hc), '-allusers', '-af', 'JobStatus', 'Owner']);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.stdout.trim(), '1 nobody');
  });
});

describe('ClassAd evaluation bounds – printing', () => {
  // a list of 60,000 names prints as 400 KiB: a step per KiB let 150 such prints in one evaluation, 4 s of a
  // daemon's time (every other costly function is bounded at about half a second); 20 are over the bound now
  const big = `{${Array.from({ length: 60_000 }, (_, i) => `a${i}`).join(',')}}`;
  for (const f of ['unparse(big)', 'string(big)', 'strcat(big)'])
    test(`${f} of a big list, 20 times in one expression, is over the bound`, () => {
      const sum = Array.from({ length: 20 }, () => `size(${f})`).join(' + ');
      const ad = parseClassAd(`[big = ${big}; x = ${sum}]`);
      assert.equal(String(ad.evaluate('x')), 'error');
      // one print is within it
      assert.equal(typeof parseClassAd(`[big = ${big}; x = size(${f})]`).evaluate('x'), 'bigint');
    });
});
