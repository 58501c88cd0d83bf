// dq -json's elements written straight from the records must be byte for byte what the ClassAd path writes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adOfRecord, jsonElements } from '../../../cli/shared/job-query.js';
import { adToJSON } from '../../../cli/shared/output/ad.js';

const reference = (recs: Array<Record<string, string>>) =>
  JSON.stringify(
    recs.map((r) => adToJSON(adOfRecord(r))),
    null,
    2,
  ).slice(2, -2);

const job = (proc: number): Record<string, string> => ({
  ClusterId: '12',
  ProcId: String(proc),
  Owner: '"alice"',
  Cmd: '"/bin/echo"',
  Args: '"a \\"quoted\\" arg\\nand a newline"',
  JobStatus: '5',
  RemoteWallClockTime: '0.0',
  Rate: '1.5e3',
  Big: '1234567890123456789',
  Neg: '-7',
  Requirements: '(TARGET.Arch == "X86_64") && (TARGET.Memory >= RequestMemory)',
  Sizes: '{ 1, 2.5, "three", { }, [ a = 1; B = { 2 } ] }',
  Nested: '[ zeta = 1; Alpha = [ y = "y"; x = undefined ]; beta = {} ]',
  Empty: '""',
  Unicode: '"naïve ✓ \\u00e9"',
  HoldReason: 'undefined',
  Bad: 'error',
  Yes: 'true',
  aLower: '1',
  Zed: 'false',
  _under: '2',
});

describe('dq -json elements', () => {
  test('jobs of a cluster and odd values: the same bytes as the ClassAd path', () => {
    const recs = [job(0), job(1), { ...job(2), Extra: '"only here"' }, {}];
    assert.equal(jsonElements(recs), reference(recs));
    assert.equal(jsonElements(recs), reference(recs), 'again, from the caches');
  });

  test('names alike but for case are one attribute, and __proto__ is a name like any other', () => {
    const recs = [
      { Foo: '1', foo: '2', Bar: '3' },
      { __proto__: '1', Other: '2' } as Record<string, string>,
      { ZZ: '1', zz: '"x"' },
    ];
    assert.equal(jsonElements(recs), reference(recs));
  });

  test('no records, no text', () => {
    assert.equal(jsonElements([]), '');
  });
});
