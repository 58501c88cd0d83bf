// FetchInput with $$() filled in: a startd sends the executable, stdin and transfer_input_files as it filled
// them in for the slot; the schedd takes only values that fill in the references the job left, so a hostile
// execute host cannot name other files of the job's owner.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { expandMatchRefs, fillsTemplate } from '../../../grammar/submit/match-expand.js';
import { transferExpanded } from '../../../daemons/startd/transfer.js';
import { DschedError } from '../../../lib/errors.js';
import { filledInputs } from '../../../daemons/schedd/transfer.js';

describe('fetch input – filled-in transfer attributes', () => {
  const cases: Array<[string, string, boolean]> = [
    ['prog-$$(Cpus).sh', 'prog-2.sh', true],
    ['prog-$$(Cpus).sh', 'prog-.sh', true],
    ['prog-$$(Cpus).sh', '/etc/shadow', false],
    ['prog-$$(Cpus).sh', 'prog-2.sh.x', false],
    ['$$(Arch)/in-$$(Cpus).txt, b.txt', 'X86_64/in-4.txt, b.txt', true],
    ['$$(Arch)/in-$$(Cpus).txt, b.txt', 'X86_64/in-4.txt, /etc/passwd', false],
    ['$$([strcat("a)", "b")]).txt', 'a)b.txt', true],
    ['a$$(X)a', 'a', false], // the text around the reference may not overlap
    ['a$$(X)a', 'aa', true],
    ['plain.txt', 'other.txt', false],
  ];
  for (const [template, value, ok] of cases)
    test(`fetch input – '${value}' ${ok ? 'fills in' : 'does not fill in'} '${template}'`, () =>
      assert.equal(fillsTemplate(template, value), ok));

  const stored: Record<string, string> = { Cmd: 'prog-$$(Cpus).sh', In: 'in.txt', Iwd: '/home/$$(Name)' };
  const lookup = (n: string) => stored[n];

  test('fetch input – a filled-in Cmd replaces the stored one', () =>
    assert.deepEqual([...filledInputs(lookup, { Cmd: 'prog-4.sh' })], [['Cmd', 'prog-4.sh']]));

  for (const [why, expanded] of [
    ['an attribute without references', { In: '/etc/shadow' }],
    ['an attribute that names no input', { Iwd: '/root' }],
    ['a value the references cannot give', { Cmd: '../../etc/shadow' }],
    ['an attribute the job does not have', { TransferInput: 'x' }],
  ] as const)
    test(`fetch input – ${why} is refused`, () =>
      assert.throws(
        () => filledInputs(lookup, expanded),
        (e) => e instanceof DschedError && e.code === 'TRANSFER_REFUSED',
      ));

  test('fetch input – the startd sends the input attributes it filled in, whatever their spelling, and only those', () => {
    const job = ClassAd.fromRecord({
      cmd: '"prog-$$(Cpus).sh"',
      In: '"in.txt"',
      TransferInput: '"a-$$(Cpus).txt, b.txt"',
      Arguments: '"$$(Cpus)"',
    });
    const slot = () => ClassAd.fromRecord({ Cpus: '4' });
    assert.deepEqual(transferExpanded(expandMatchRefs(job, slot, 'slot1_1@h')), {
      Cmd: 'prog-4.sh',
      TransferInput: 'a-4.txt, b.txt',
    });
    assert.deepEqual(transferExpanded(undefined), {});
  });
});
