// An ad read from its attribute texts (RecordAd) answers every question exactly as the record's ClassAd does,
// whether the answer came from a literal's text or from the ClassAd it builds for anything else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adOfRecord } from '../../../grammar/classad/json-text.js';
import { parseExpr, valueToJS, type Value } from '../../../grammar/classad/index.js';
import { RecordAd } from '../../../grammar/classad/record-ad.js';
import { autoformat, formatPrintf } from '../../../cli/shared/output/autoformat.js';

const job = (proc: number): Record<string, string> => ({
  ClusterId: '12',
  ProcId: String(proc),
  Owner: '"alice"',
  JobStatus: '5',
  Rate: '1.5e3',
  Big: '1234567890123456789',
  Neg: '-7',
  Flag: 'true',
  Hold: 'undefined',
  Err: 'error',
  QDate: 'absTime("2026-01-02T03:04:05Z")',
  RequestMemory: 'ifThenElse(ProcId > 0, 2048, 1024)',
  Twice: 'RequestMemory * 2',
  Sizes: '{ 1, 2 }',
  my: '"a name ClassAd gives its own meaning"',
  CurrentTime: '5',
});

const QUESTIONS = [
  'ClusterId',
  'clusterid',
  'CLUSTERID',
  'ProcId',
  'Owner',
  'Rate',
  'Big',
  'Neg',
  'Flag',
  'Hold',
  'Err',
  'QDate',
  'RequestMemory',
  'Twice',
  'Sizes',
  'Missing',
  'my',
  'MY.ProcId',
  'target',
  'CurrentTime',
  'true',
  'undefined',
  'error',
  'ProcId + 1',
  'strcat(Owner, "!")',
];

const same = (a: Value, b: Value, what: string) =>
  assert.deepEqual(
    JSON.stringify(valueToJS(a), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    JSON.stringify(valueToJS(b), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    what,
  );

describe('classad – an ad read from its attribute texts', () => {
  test('record ad – every expression and name evaluates as in the whole ClassAd', () => {
    for (const proc of [0, 1]) {
      const rec = job(proc);
      const full = adOfRecord(rec);
      for (const q of QUESTIONS) {
        same(new RecordAd(rec).evalExpr(q), full.evalExpr(q), `evalExpr(${q}) of proc ${proc}`);
        same(new RecordAd(rec).evalExpr(parseExpr(q)), full.evalExpr(parseExpr(q)), `evalExpr(tree ${q})`);
        if (/^\w+$/.test(q)) assert.deepEqual(new RecordAd(rec).lookupJS(q), full.lookupJS(q), `lookupJS(${q})`);
      }
    }
  });

  test('record ad – names alike but for case are one attribute, as in a ClassAd', () => {
    const rec = { ClusterId: '1', clusterid: '2', ProcId: '0' };
    for (const q of ['ClusterId', 'clusterid', 'ProcId'])
      same(new RecordAd(rec).evalExpr(q), adOfRecord(rec).evalExpr(q), q);
  });

  test('record ad – -af and -format print what they print from ClassAds', () => {
    const recs = [job(0), job(1), { ClusterId: '13', ProcId: '0', Owner: '"bob"' }];
    const args = ['ClusterId', 'Owner', 'RequestMemory', 'QDate', 'Missing', 'Twice'];
    for (const opts of [
      {},
      { jobId: true },
      { headings: true },
      { label: true },
      { raw: true },
      { quoteStrings: true },
    ])
      assert.equal(
        autoformat(
          recs.map((r) => new RecordAd(r)),
          args,
          opts,
        ),
        autoformat(
          recs.map((r) => adOfRecord(r)),
          args,
          opts,
        ),
        JSON.stringify(opts),
      );
    const items = [
      { format: '%d.', expr: 'ClusterId' },
      { format: '%s ', expr: 'Owner' },
      { format: '%v\\n', expr: 'RequestMemory' },
    ];
    assert.equal(
      formatPrintf(
        recs.map((r) => new RecordAd(r)),
        items,
      ),
      formatPrintf(
        recs.map((r) => adOfRecord(r)),
        items,
      ),
    );
  });

  test('record ad – a text that does not parse fails as the ClassAd fails', () => {
    const rec = { ClusterId: '1', Bad: '1 +' };
    assert.throws(
      () => new RecordAd(rec).evalExpr('Bad'),
      (e: Error) => {
        assert.throws(() => adOfRecord(rec), { message: e.message });
        return true;
      },
    );
  });
});
