// submit defaults – a job submitted with no requirements on this host matches the slots a startd on this same
// host advertises: condor_submit's default Requirements ask for the submitting machine's Arch and OpSys, so
// the submit side and the startd must spell them alike (they once said `ppc64le` and `PPC64`).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ClassAd, isTrue } from '../../../grammar/classad/index.js';
import { Machine } from '../../../daemons/startd/slots.js';
import { Config } from '../../../lib/config/load.js';
import { condorArch, condorOpSys } from '../../../lib/platform.js';
import { run, scratch, str } from './helpers.js';

describe('submit defaults – Arch and OpSys', () => {
  const s = scratch();
  after(() => s.cleanup());
  s.write('prog.sh', '#!/bin/sh\n', 0o755);
  const slot = new Machine(
    'node1',
    'node1.example.org',
    new Config('/nonexistent-dsched-home', []),
    { cpus: 4, memory: 8192, disk: 10_000_000, custom: {} },
    'addr:1',
  ).pslotAd();
  const slotAd = ClassAd.fromRecord(slot);

  test('submit defaults – the startd advertises the Arch and OpSys a submit file on this host asks for', () => {
    const job = run(s.dir, 'executable = prog.sh\nqueue\n').ad(0);
    const req = job.Requirements ?? '';
    assert.match(req, new RegExp(`\\(TARGET\\.Arch == "${str(slot.Arch)}"\\)`), `job Requirements: ${req}`);
    assert.match(req, new RegExp(`\\(TARGET\\.OpSys == "${str(slot.OpSys)}"\\)`), `job Requirements: ${req}`);
    assert.ok(
      isTrue(ClassAd.fromRecord(job).evaluate('Requirements', slotAd)),
      `${req} must be true against the slot ad`,
    );
  });

  test('submit defaults – a #PBS script on this host asks for the same Arch and OpSys', () => {
    const job = run(s.dir, '#!/bin/sh\n#PBS -N t\necho hi\n', { file: 'job.sh' }).ad(0);
    assert.ok(
      isTrue(ClassAd.fromRecord(job).evaluate('Requirements', slotAd)),
      `${job.Requirements} must be true against the slot ad`,
    );
  });

  test('submit defaults – Arch and OpSys are spelled as HTCondor spells them', () => {
    assert.equal(condorArch('x86_64'), 'X86_64');
    assert.equal(condorArch('i686'), 'INTEL');
    assert.equal(condorArch('aarch64'), 'aarch64');
    assert.equal(condorArch('ppc64le'), 'ppc64le');
    assert.equal(condorArch('ppc64'), 'PPC64');
    assert.equal(condorOpSys('linux'), 'LINUX');
    assert.equal(str(slot.Arch), condorArch());
    assert.equal(str(slot.OpSys), condorOpSys());
  });
});
