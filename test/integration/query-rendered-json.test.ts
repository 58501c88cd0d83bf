// dq -json and -long rendered by the schedd (JobQuery.format, one rendering shared by every reader of the same
// view) and only copied out by dq: byte for byte what dq wrote when it rendered the ads itself, for every
// kind of value and for the views that select, limit or match nothing; the same bytes again while the queue
// stays the same, and a new answer as soon as it changes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adOfRecord } from '../../grammar/classad/json-text.js';
import { RecordAd } from '../../grammar/classad/record-ad.js';
import { adToJSON } from '../../cli/shared/output/ad.js';
import { autoformat } from '../../cli/shared/output/autoformat.js';
import { projectionFor } from '../../cli/shared/job-query.js';
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
        '+Trail = "ends in blanks  "',
        '+Empty = ""',
        '+Upper = TRUE',
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

  test('rendered queries – dq -af of attribute names is byte for byte the ads formatted by the CLI, plain and other values mixed', async () => {
    // jobs whose Mix the schedd cannot print as its text, among jobs whose Mix it can: lines and ads in turn
    for (const [proc, value] of [
      [4, 'ProcId * 2'],
      [5, '"tab\\there"'],
      [9, '2.5'],
    ] as const) {
      const edit = await pool.run('dqedit', [`${big}.${proc}`, 'Mix', value]);
      assert.equal(edit.code, 0, edit.stderr);
    }
    const client = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('root', true)));
    try {
      const views: Array<[string[], string[], { constraint?: string; limit?: number; jobId?: boolean }]> = [
        [['ClusterId'], [], {}],
        [['ClusterId', 'ProcId', 'Owner', 'JobStatus', 'Mix', 'NoSuchAttr'], [], {}],
        [['Cmd', 'Arguments', 'Step', 'Big', 'Rate', 'Nothing', 'Unicode', 'Expr', 'Nested'], [], {}],
        [['Upper', 'Empty', 'Trail'], [], {}],
        [['Empty', 'Trail', 'empty'], [], {}],
        [['ProcId', 'Mix'], ['-constraint', 'ProcId > 2'], { constraint: 'ProcId > 2' }],
        [['ProcId', 'Mix'], ['-limit', '6'], { limit: 6 }],
        [['ProcId'], ['-constraint', 'false'], { constraint: 'false' }],
        [['Owner', 'Mix', 'Trail'], [], { jobId: true }],
      ];
      for (const [attrs, args, q] of views) {
        const ads = await client.query({
          ids: [],
          owners: [],
          constraint: q.constraint ?? '',
          projection: projectionFor(attrs),
          history: false,
          limit: q.limit ?? 0,
        });
        const r = await pool.run('dq', ['-allusers', ...args, q.jobId ? '-af:j' : '-af', ...attrs]);
        assert.equal(r.code, 0, r.stderr);
        const expected = autoformat(
          ads.map((a) => new RecordAd(a)),
          attrs,
          { jobId: q.jobId },
        );
        assert.equal(r.stdout, expected, `dq -af ${attrs.join(' ')} ${args.join(' ')}`);
      }
      // the schedd printed the plain ones itself
      let text = 0;
      for await (const page of client.queryPages({
        ids: [{ cluster: big, proc: -1 }],
        owners: [],
        constraint: '',
        projection: ['ClusterId', 'ProcId', 'Mix'],
        history: false,
        limit: 0,
        format: 'af ProcId Mix',
      }))
        text += page.text?.length ? 1 : 0;
      assert.ok(text >= 3, 'lines, ads, lines, ads, lines');
    } finally {
      client.close();
    }
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
