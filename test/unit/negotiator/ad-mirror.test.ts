// The negotiator's copy of the collector's ads, fed by the Watch stream, and what it learns from the slots.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { AdMirror } from '../../../daemons/negotiator/ad-mirror.js';
import { jobAttributesOfSlots } from '../../../daemons/negotiator/cycle.js';

const slot = (name: string, cpus: number) => ({
  type: 'Machine',
  name,
  kind: 'added',
  ad: { attrs: { Name: `"${name}"`, Cpus: String(cpus), State: '"Unclaimed"' } },
});

describe('negotiator – ad mirror', () => {
  test('negotiator – the ads sent before hello make the copy; later changes update it; removed ads go', () => {
    const m = new AdMirror();
    m.streamOpened();
    m.apply(slot('slot1@a', 4));
    m.apply(slot('slot1@b', 2));
    assert.equal(m.ready, false);
    m.apply({ type: '', name: '', kind: 'hello' });
    assert.equal(m.ready, true);
    assert.deepEqual(
      m.ads('machine').map((a) => a.lookupJS('Cpus')),
      [4, 2],
    );
    m.apply({ ...slot('slot1@b', 1), kind: 'updated' });
    m.apply({ type: 'Machine', name: 'SLOT1@A', kind: 'removed' });
    assert.deepEqual(
      m.ads('Machine').map((a) => a.lookupJS('Cpus')),
      [1],
    );
    assert.deepEqual(m.ads('Submitter'), []);
  });

  test('negotiator – an ad is parsed once while unchanged, again after a change', () => {
    const m = new AdMirror();
    m.streamOpened();
    m.apply(slot('slot1@a', 4));
    m.apply({ type: '', name: '', kind: 'hello' });
    const [a1] = m.ads('Machine');
    assert.equal(m.ads('Machine')[0], a1);
    m.apply({ ...slot('slot1@a', 4), kind: 'updated' });
    assert.notEqual(m.ads('Machine')[0], a1);
  });

  test('negotiator – a renewal sets its texts over the ad held, parsed or not, and is a new version', () => {
    const m = new AdMirror();
    m.streamOpened();
    m.apply(slot('slot1@a', 4));
    m.apply(slot('slot1@b', 2));
    m.apply({ type: '', name: '', kind: 'hello' });
    const [a1] = m.ads('Machine'); // slot1@a parsed by a cycle; slot1@b not
    const renewal = (name: string, load: string) => ({
      type: 'Machine',
      name,
      kind: 'renewed',
      ad: { attrs: { LoadAvg: load, LastHeardFrom: '200' } },
    });
    const before = m.apply(renewal('slot1@a', '1.5'));
    assert.equal(before?.text('LoadAvg'), undefined, 'the version before is as it was');
    m.apply(renewal('slot1@b', '0.25'));
    m.apply(renewal('slot1@b', '0.75'));
    m.apply(renewal('slot1@c', '9')); // of no ad held: nothing to set it over
    assert.deepEqual(
      m.views('Machine').map((v) => [v.text('Name'), v.lookupJS('LoadAvg'), v.text('Cpus'), v.text('State')]),
      [
        ['"slot1@a"', 1.5, '4', '"Unclaimed"'],
        ['"slot1@b"', 0.75, '2', '"Unclaimed"'],
      ],
    );
    assert.notEqual(m.ads('Machine')[0], a1);
    assert.equal(m.get('MACHINE', 'slot1@B')?.ad.lookupJS('LastHeardFrom'), 200);
  });

  test('negotiator – a change returns the ad as it was, parsed or not, for the attributes it had', () => {
    const m = new AdMirror();
    m.streamOpened();
    m.apply({ type: '', name: '', kind: 'hello' });
    const submitter = (idle: number) => ({
      type: 'Submitter',
      name: 'alice@pool',
      kind: 'updated',
      ad: { attrs: { Name: '"alice@pool"', IdleJobs: String(idle) } },
    });
    assert.equal(m.apply(submitter(3)), undefined);
    assert.equal(m.apply(submitter(5))?.text('IdleJobs'), '3');
    m.ads('Submitter'); // a cycle parsed it: its texts are read back from the ClassAd
    const before = m.apply(submitter(2));
    assert.equal(before?.text('IdleJobs'), '5');
    assert.equal(before?.text('Name'), '"alice@pool"');
    assert.equal(before?.text('RunningJobs'), undefined);
  });

  test('negotiator – an unparsed ad gives the values ClassAd.lookupJS gives, whatever the case of the name', () => {
    const attrs = {
      Name: '"slot1_1@a"',
      Cpus: '4',
      LoadAvg: '0.5',
      DynamicSlot: 'TRUE',
      Busy: 'undefined',
      Memory: 'Cpus * 1024',
      Escaped: '"a\\"b"',
    };
    const m = new AdMirror();
    m.streamOpened();
    m.apply({ type: 'Machine', name: 'slot1_1@a', kind: 'added', ad: { attrs } });
    m.apply({ type: '', name: '', kind: 'hello' });
    const parsed = ClassAd.fromRecord(attrs);
    const [view] = m.views('Machine');
    assert.equal(view!.text('cpus'), '4');
    // the literals first, read from their texts; the others parse the ad
    for (const name of [
      'Name',
      'NAME',
      'Cpus',
      'LoadAvg',
      'DynamicSlot',
      'dynamicslot',
      'Busy',
      'Missing',
      'Memory',
      'Escaped',
    ])
      assert.deepEqual(view!.lookupJS(name), parsed.lookupJS(name), name);
  });

  test('negotiator – a broken stream leaves the copy not ready; the next stream replaces it whole', () => {
    const m = new AdMirror();
    m.streamOpened();
    m.apply(slot('slot1@a', 4));
    m.apply({ type: '', name: '', kind: 'hello' });
    m.streamLost();
    assert.equal(m.ready, false);
    m.streamOpened();
    m.apply(slot('slot1@c', 8));
    // until the new stream's hello, cycles would see the old copy; they are not run (ready is false)
    assert.equal(m.ready, false);
    m.apply({ type: '', name: '', kind: 'hello' });
    assert.deepEqual(
      m.ads('Machine').map((a) => a.lookupJS('Name')),
      ['slot1@c'],
    );
  });
});

describe('negotiator – job attributes the slots tell jobs apart by', () => {
  test('negotiator – TARGET.x and plain names the slot does not define, from Requirements, START and Rank', () => {
    const ad = (attrs: Record<string, string>) =>
      ClassAd.fromRecord({ Name: '"slot1@a"', Cpus: '4', KeyboardIdle: '0', ...attrs });
    const names = jobAttributesOfSlots([
      ad({ START: 'KeyboardIdle > 15 && Department == "physics"', Requirements: 'START' }),
      ad({ Rank: 'TARGET.IsUrgent =?= true', Requirements: 'MY.Cpus > 0 && TARGET.RequestCpus <= 4' }),
    ]);
    assert.deepEqual(names, ['department', 'isurgent', 'requestcpus']);
  });
});
