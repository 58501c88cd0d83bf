// dq -af's lines as the schedd prints them (JobQuery.format "af NAME..."): for every literal it prints itself,
// byte for byte what dq's autoformat prints from the ad; every other value is left to dq.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afLine, afView, recordSource } from '../../../daemons/schedd/query.js';
import { RecordAd } from '../../../grammar/classad/record-ad.js';
import { autoformat } from '../../../cli/shared/output/autoformat.js';

const PRINTED = ['0', '7', '-12', '123456789012345', 'true', 'false', '"x"', '""', '"a b  "', '" lead"', '"~!#[]"'];
const LEFT = [
  '-0',
  '1234567890123456',
  '1.0',
  '1e3',
  'TRUE',
  'undefined',
  'error',
  '{ 1 }',
  '[ a = 1 ]',
  '"a\\"b"',
  '"tab\\there"',
  '"naïve"',
  '"\u0007"',
  'Other + 1',
];

describe('schedd af lines', () => {
  test('schedd af lines – each literal it prints is printed as dq prints it, alone, first or last', () => {
    for (const text of PRINTED) {
      for (const names of [['A'], ['A', 'Other'], ['Other', 'A'], ['Missing', 'a']]) {
        const rec = { A: text, Other: '"o"', ClusterId: '12', ProcId: '0' };
        for (const jobId of [false, true]) {
          const line = afLine(recordSource(rec), { jobId, names });
          assert.notEqual(line, undefined, `${text} as ${names.join(' ')}`);
          assert.equal(line, autoformat([new RecordAd(rec)], names, { jobId }), `${text} as ${names.join(' ')}`);
        }
      }
    }
  });

  test('schedd af lines – any other value is left to dq', () => {
    for (const text of LEFT) {
      assert.equal(
        afLine(recordSource({ A: text, Other: '1' }), { jobId: false, names: ['Other', 'A'] }),
        undefined,
        text,
      );
    }
  });

  test('schedd af lines – with j, only plain ids are printed', () => {
    const view = { jobId: true, names: ['A'] };
    for (const [c, p] of [
      ['12', '-1'],
      ['1.0', '0'],
      ['"12"', '0'],
      ['12', undefined],
    ] as const)
      assert.equal(
        afLine(recordSource({ A: '1', ClusterId: c, ...(p ? { ProcId: p } : {}) }), view),
        undefined,
        `${c}.${p}`,
      );
    assert.equal(afLine(recordSource({ A: '1', ClusterId: '12', ProcId: '3' }), view), '12.3 1\n');
  });

  test('schedd af lines – only attribute names, never a keyword or another format', () => {
    assert.deepEqual(afView('af ClusterId ProcId'), { jobId: false, names: ['ClusterId', 'ProcId'] });
    assert.deepEqual(afView('af:j Owner'), { jobId: true, names: ['Owner'] });
    for (const f of [
      '',
      'json',
      'af',
      'af ',
      'af a  b',
      'af true',
      'af My',
      'af a.b',
      "af 'x y'",
      'afClusterId',
      'af:h A',
      'af:j ',
    ])
      assert.equal(afView(f), undefined, f);
  });
});
