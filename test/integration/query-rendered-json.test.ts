// dq -json and -long rendered by the schedd (JobQuery.format, one rendering shared by every reader of the same
// view) and only copied out by dq: byte for byte what dq wrote when it rendered the ads itself, for every
// kind of value and for the views that select, limit or match nothing; the same bytes again while the queue
// stays the same, and a new answer as soon as it changes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adOfRecord } from '../../grammar/classad/json-text.js';
import { adToJSON } from '../../cli/shared/output/ad.js';
import { formatJobsLong } from '../../cli/shared/output/jobs.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { TestPool } from './harness/pool.js';

describe('rendered queries', () => {
  let pool: TestPool;
  let big: number;
  let odd: number;
  before(async () => {
    pool = await TestPool.start();
    pool.file(
      'big.sub',
      'executable = /bin/true\nhold = true\narguments = "one $(Process) \'two words\'"\n+Step = $(Process) * 2\nqueue 40\n',
    );
    big = await pool.submit('big.sub');
    pool.file(
      'odd.sub',
      [
        'executable = /bin/echo',
        'hold = true',
        'arguments = "a ""quoted"" arg"',
        'environment = "A=1 B=naïve✓"',
        '+Nested = [ zeta = 1; Alpha = [ y = "y"; x = undefined ]; beta = {} ]',
        '+Sizes = { 1, 2.5, "three", { }, [ a = 1; B = { 2 } ] }',
        '+Expr = RequestMemory * 2 + size("x")',
        '+Big = 1234567890123456789',
        '+Rate = 1.5e3',
        '+Nothing = undefined',
        '+Unicode = "naïve ✓ \\u00e9 \\t tab"',
        'queue 2',
      ].join('\n') + '\n',
    );
    odd = await pool.submit('odd.sub');
  });
  after(async () => {
    await pool?.stop();
  });

  /** What dq wrote before the schedd rendered it: the ads of the same query, each through the ClassAd path. */
  async function reference(
    q: { ids?: Array<{ cluster: number; proc: number }>; constraint?: string; limit?: number },
    long = false,
  ): Promise<string> {
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root', true)));
    try {
      const ads = await client.query({
        ids: q.ids ?? [],
        owners: [],
        constraint: q.constraint ?? '',
        projection: [],
        history: false,
        limit: q.limit ?? 0,
      });
      if (long) return formatJobsLong(ads.map((r) => adOfRecord(r)));
      return (
        JSON.stringify(
          ads.map((r) => adToJSON(adOfRecord(r))),
          null,
          2,
        ) + '\n'
      );
    } finally {
      client.close();
    }
  }

  const dqJson = async (args: string[], view = '-json') => {
    const r = await pool.run('dq', [view, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test('rendered queries – dq -json and -long are byte for byte the ads rendered by the CLI, for every view', async () => {
    const views: Array<[string[], Parameters<typeof reference>[0]]> = [
      [[], {}],
      [[String(odd)], { ids: [{ cluster: odd, proc: -1 }] }],
      [[`${big}.7`], { ids: [{ cluster: big, proc: 7 }] }],
      [['-constraint', 'Step > 60'], { constraint: 'Step > 60' }],
      [['-limit', '3'], { limit: 3 }],
      [['-constraint', 'false'], { constraint: 'false' }],
    ];
    for (const [args, q] of views) {
      assert.equal(await dqJson(args), await reference(q), `dq -json ${args.join(' ')}`);
      assert.equal(await dqJson(args, '-long'), await reference(q, true), `dq -long ${args.join(' ')}`);
    }
    assert.equal(await dqJson(['-constraint', 'false']), '[]\n');
    assert.equal(await dqJson(['-constraint', 'false'], '-long'), '');
  });

  test('rendered queries – the same bytes again while the queue is unchanged, the change as soon as there is one', async () => {
    const first = await dqJson([String(big)]);
    assert.equal(await dqJson([String(big)]), first);
    const edit = await pool.run('dqedit', [`${big}.3`, 'JobPrio', '7']);
    assert.equal(edit.code, 0, edit.stderr);
    const after = JSON.parse(await dqJson([String(big)])) as Array<Record<string, unknown>>;
    assert.equal(after.find((a) => a.ProcId === 3)?.JobPrio, 7);
    assert.equal(await dqJson([String(big)]), await reference({ ids: [{ cluster: big, proc: -1 }] }));
  });
});
