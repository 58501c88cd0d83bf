// The spelling of a submission's attribute names: the names the schedd checks get their one spelling, and one
// name sent in two spellings is refused (a ClassAd would keep only one of them, maybe not the one checked).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { canonicalizeNames } from '../../../daemons/schedd/submit-checks.js';

test('checked attributes get their one spelling; others keep theirs', () => {
  const attrs: Record<string, string> = { iwd: '"/x"', USERLOG: '"/x/l"', Foo: '1', jobstatus: '1' };
  canonicalizeNames(attrs);
  assert.deepEqual(attrs, { Iwd: '"/x"', UserLog: '"/x/l"', Foo: '1', JobStatus: '1' });
});

test('one name in two spellings is refused', () => {
  const sets: Array<Record<string, string>> = [
    { Iwd: '"/a"', iwd: '"/b"' },
    { Secret: '1', SECRET: '2' },
  ];
  for (const attrs of sets)
    assert.throws(
      () => canonicalizeNames(attrs),
      (e: Error & { code?: string }) => e.code === 'SUBMIT_INVALID' && /is given twice/.test(e.message),
    );
});
