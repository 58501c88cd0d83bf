// The listing transformations behind condor_q/condor_history options: -since and -completedsince as stop
// expressions, the selection as one expression, the scan (stop, keep, -forwards, -limit), -attributes, and
// condor_q -dag's tree order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  attributeList,
  completedSinceExpr,
  onlyAttributes,
  predicate,
  scanPages,
  selectionExpr,
  sinceExpr,
} from '../../../cli/shared/job-scan.js';
import { dagOrder, formatGoodputView, formatIoView } from '../../../cli/shared/output/queue-views.js';
import { xmlAds } from '../../../cli/shared/output/xml.js';
import type { JobQueryPage__Output } from '../../../lib/rpc/generated/dsched/v1/JobQueryPage.js';

const job = (c: number, extra: Record<string, string> = {}) => ({ ClusterId: String(c), ProcId: '0', ...extra });
async function* pages(...groups: Array<Array<Record<string, string>>>): AsyncGenerator<JobQueryPage__Output> {
  for (const g of groups) yield { ads: g.map((attrs) => ({ attrs })), last: false } as unknown as JobQueryPage__Output;
}
async function clusters(it: AsyncIterable<JobQueryPage__Output>): Promise<number[]> {
  const out: number[] = [];
  for await (const p of it) for (const a of p.ads) out.push(Number(a.attrs.ClusterId));
  return out;
}

describe('job scan – condor_history -since, -completedsince, -forwards, -limit; -attributes; -dag', () => {
  test('job scan – -since takes a job id or an expression; -completedsince epoch seconds or a date', () => {
    assert.equal(sinceExpr('12'), 'ClusterId == 12');
    assert.equal(sinceExpr('12.3'), 'ClusterId == 12 && ProcId == 3');
    assert.equal(sinceExpr('QDate < 5'), 'QDate < 5');
    assert.throws(() => sinceExpr('QDate <'), /CLASSAD_SYNTAX|syntax|expected/i);
    assert.match(completedSinceExpr('1700000000'), /CompletionDate < 1700000000$/);
    assert.match(completedSinceExpr('1970-01-02T00:00:00Z'), /CompletionDate < 86400$/);
    assert.throws(() => completedSinceExpr('soon'), /neither epoch seconds nor a date/);
  });

  test('job scan – the selection as one expression: any of the ids, any of the owners, and the constraint', () => {
    const e = selectionExpr({
      ids: [
        { cluster: 1, proc: -1 },
        { cluster: 2, proc: 0 },
      ],
      owners: ['ann@x'],
      constraint: 'A',
    });
    assert.equal(e, '(ClusterId == 1 || (ClusterId == 2 && ProcId == 0)) && (Owner == "ann") && (A)');
    assert.equal(selectionExpr({ ids: [], owners: [], constraint: '' }), '');
    const p = predicate(e.replace('(A)', 'true'));
    assert.equal(p({ ClusterId: '2', ProcId: '0', Owner: '"ann"' }), true);
    assert.equal(p({ ClusterId: '2', ProcId: '1', Owner: '"ann"' }), false);
    assert.equal(p({ ClusterId: '1', ProcId: '5', Owner: '"bob"' }), false);
  });

  test('job scan – stops before the stop job, across pages; keeps only the selected; limit counts shown jobs', async () => {
    const src = () => pages([job(9), job(8)], [job(7), job(6), job(5)]);
    assert.deepEqual(await clusters(scanPages(src(), { stop: predicate('ClusterId == 6') })), [9, 8, 7]);
    assert.deepEqual(await clusters(scanPages(src(), { keep: predicate('ClusterId % 2 == 1'), limit: 2 })), [9, 7]);
    assert.deepEqual(await clusters(scanPages(src(), { reverse: true })), [5, 6, 7, 8, 9]);
    assert.deepEqual(await clusters(scanPages(src(), { reverse: true, limit: 2 })), [5, 6]);
    assert.deepEqual(
      await clusters(scanPages(src(), { reverse: true, limit: 1, stop: predicate('ClusterId == 6') })),
      [7],
    );
  });

  test('job scan – -attributes keeps exactly the named attributes, whatever their case; refuses non-names', async () => {
    assert.deepEqual(attributeList(['a,B', 'c d']), ['a', 'B', 'c', 'd']);
    assert.throws(() => attributeList(['x-y']), /not an attribute name/);
    assert.throws(() => attributeList([',']), /needs attribute names/);
    const out = [];
    for await (const p of onlyAttributes(pages([job(1, { Owner: '"ann"', Env: '"S=1"' })]), ['owner', 'clusterid']))
      out.push(...p.ads.map((a) => a.attrs));
    assert.deepEqual(out, [{ ClusterId: '1', Owner: '"ann"' }]);
  });

  test('job scan – -dag: nodes follow their DAGMan job, nested DAGs indented; orphans on their own', () => {
    const ad = (c: number, dag?: number, node?: string) => {
      const v: Record<string, unknown> = { ClusterId: c, ProcId: 0, Owner: 'ann' };
      if (dag !== undefined) v.DAGManJobId = dag;
      if (node) v.DAGNodeName = node;
      return { lookupJS: (n: string) => v[Object.keys(v).find((k) => k.toLowerCase() === n.toLowerCase()) ?? ''] };
    };
    const rows = dagOrder([ad(5, 1, 'B'), ad(1), ad(3, 1, 'A'), ad(4, 3, 'SUB'), ad(2), ad(7, 99, 'LOST')]);
    assert.deepEqual(
      rows.map((r) => `${r.lookupJS('ClusterId')} ${r.lookupJS('Owner')}`),
      ['1 ann', '3  |-A', '4    |-SUB', '5  |-B', '2 ann', '7 ann'],
    );
  });

  test('job scan – -xml: each literal typed as HTCondor writes it, expressions as text, everything escaped', () => {
    const xml = xmlAds([{ A: '1', B: '2.5', C: '"x<&>\\"y"', D: 'true', E: 'undefined', F: 'A + 1', G: 'error' }]);
    assert.equal(
      xml,
      '<c>\n' +
        '    <a n="A"><i>1</i></a>\n' +
        '    <a n="B"><r>2.5</r></a>\n' +
        '    <a n="C"><s>x&lt;&amp;&gt;&quot;y</s></a>\n' +
        '    <a n="D"><b v="t"/></a>\n' +
        '    <a n="E"><un/></a>\n' +
        '    <a n="F"><e>A + 1</e></a>\n' +
        '    <a n="G"><er/></a>\n' +
        '</c>\n',
    );
  });

  test('job scan – -goodput: a running job evicted before counts its current run only; -io: bytes and rate', () => {
    const ad = (v: Record<string, unknown>) => ({
      lookupJS: (n: string) => v[Object.keys(v).find((k) => k.toLowerCase() === n.toLowerCase()) ?? ''],
    });
    const now = 10_000;
    const evicted = ad({
      ClusterId: 1,
      ProcId: 0,
      Owner: 'ann',
      JobStatus: 2,
      QDate: 1,
      RemoteWallClockTime: 100,
      JobCurrentStartDate: now - 100,
      RemoteUserCpu: 50,
      BytesSent: 1_000_000,
      BytesRecvd: 250_000,
      NumJobStarts: 2,
    });
    const [, row] = formatGoodputView([evicted], { now, time: { utc: true } });
    assert.match(row!, /^1\.0 +ann +.* 0\+00:03:20 +50\.0% +50\.0% +0\.10$/);
    const [, io] = formatIoView([evicted], { now });
    assert.match(io!, /^1\.0 +ann +2 R +976\.6 KB +244\.1 KB +6\.1 KB\/s/);
  });
});
