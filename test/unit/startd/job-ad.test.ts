// A running job's ad as the startd keeps it (job-ad.ts): packed, it reads back whole as it was, and the
// usage and suspension attributes the monitor sets keep it packed.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd, parseExpr } from '../../../grammar/classad/index.js';
import { JobAd } from '../../../daemons/startd/job-ad.js';

const texts = {
  ClusterId: '12',
  ProcId: '3',
  Owner: '"alice"',
  Cmd: '"/bin/sleep"',
  Args: '"600"',
  Requirements: 'TARGET.Memory >= RequestMemory && (Arch == "X86_64")',
  RequestMemory: '32',
  Note: '"a text with \\"quotes\\" and\\ttabs"',
  Ratio: '0.5',
  Flags: '{ 1, "two", undefined }',
};

describe('startd – a running job ad', () => {
  test('packed, it reads back whole with the same attributes and values', () => {
    const ad = new JobAd(ClassAd.fromRecord(texts));
    ad.pack();
    assert.equal(ad.isPacked, true);
    const whole = ad.whole();
    assert.equal(ad.isPacked, false);
    assert.deepEqual(whole.toRecord(), ClassAd.fromRecord(texts).toRecord());
    assert.equal(whole.lookupJS('Owner'), 'alice');
    assert.equal(whole.lookupJS('procid'), 3);
  });

  test('attributes set while packed keep it packed, under the spelling the ad has', () => {
    const ad = new JobAd(ClassAd.fromRecord(texts));
    ad.pack();
    ad.setTexts({ requestmemory: '64', ResidentSetSize: '1024' });
    ad.set('LastSuspensionTime', parseExpr('1700000000'));
    assert.equal(ad.isPacked, true);
    const r = ad.whole().toRecord();
    assert.equal(r.RequestMemory, '64');
    assert.equal('requestmemory' in r, false);
    assert.equal(r.ResidentSetSize, '1024');
    assert.equal(r.LastSuspensionTime, '1700000000');
    assert.equal(Object.keys(r).length, Object.keys(texts).length + 2);
  });

  test('whole, attributes are set on the ClassAd itself', () => {
    const parsed = ClassAd.fromRecord(texts);
    const ad = new JobAd(parsed);
    ad.setTexts({ TotalSuspensions: '1' });
    assert.equal(ad.whole(), parsed);
    assert.equal(parsed.lookupJS('TotalSuspensions'), 1);
  });
});
