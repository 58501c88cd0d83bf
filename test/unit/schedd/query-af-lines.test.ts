// dq -af's lines as the schedd prints them (JobQuery.format "af NAME..."): for every literal it prints itself,
// byte for byte what dq's autoformat prints from the ad; every other value is left to dq.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afLine, afNames, recordSource } from '../../../daemons/schedd/query.js';
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
        const rec = { A: text, Other: '"o"' };
        const line = afLine(recordSource(rec), names);
        assert.notEqual(line, undefined, `${text} as ${names.join(' ')}`);
        assert.equal(line, autoformat([new RecordAd(rec)], names), `${text} as ${names.join(' ')}`);
      }
    }
  });

  test('schedd af lines – any other value is left to dq', () => {
    for (const text of LEFT) {
      assert.equal(afLine(recordSource({ A: text, Other: '1' }), ['Other', 'A']), undefined, text);
    }
  });

  test('schedd af lines – only attribute names, never a keyword or another format', () => {
    assert.deepEqual(afNames('af ClusterId ProcId'), ['ClusterId', 'ProcId']);
    for (const f of ['', 'json', 'af', 'af ', 'af a  b', 'af true', 'af My', 'af a.b', "af 'x y'", 'afClusterId'])
      assert.equal(afNames(f), undefined, f);
  });
});
