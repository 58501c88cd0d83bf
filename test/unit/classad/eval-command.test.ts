// `dsched eval` (HTCondor's classad_eval): one printed result per expression, ADs inline or from files.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { evalCommand } from '../../../cli/eval-command.js';
import { DschedError, SourceError } from '../../../lib/errors.js';

describe('dsched eval – classad_eval behaviour', () => {
  test('dsched eval – expressions without an ad', () => {
    assert.deepEqual(evalCommand({ exprs: ['1 + 2', '7 / 2.0', '"x"', 'undefined', '1/0', '{1, 2}', '[a = 1]'] }), [
      '3',
      '3.5',
      '"x"',
      'undefined',
      'error',
      '{ 1,2 }',
      '[ a = 1 ]',
    ]);
  });
  test('dsched eval – inline MY and TARGET ads', () => {
    const out = evalCommand({
      my: '[ RequestMemory = 1024; Owner = "alice" ]',
      target: '[ Memory = 2048; Arch = "X86_64" ]',
      exprs: ['TARGET.Memory >= RequestMemory', 'Memory', 'MY.Owner', 'strcat(Owner, "@", Arch)'],
    });
    assert.deepEqual(out, ['true', '2048', '"alice"', '"alice@X86_64"']);
  });
  test('dsched eval – ads from files, long form or [ ] form', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsched-eval-'));
    const job = join(dir, 'job.ad');
    const slot = join(dir, 'slot.ad');
    writeFileSync(job, '# job\nRequestCpus = 2\nRequirements = TARGET.Cpus >= RequestCpus\n');
    writeFileSync(slot, '[ Cpus = 4 ]\n');
    assert.deepEqual(evalCommand({ my: job, target: slot, exprs: ['Requirements', 'RequestCpus * 2'] }), ['true', '4']);
  });
  test('dsched eval – a syntax error throws SourceError before anything is evaluated', () => {
    assert.throws(
      () => evalCommand({ exprs: ['1', '2 +'] }),
      (e: unknown) => e instanceof SourceError && e.location.file === '<expression 2>' && e.location.column === 4,
    );
    assert.throws(
      () => evalCommand({ my: '[ a = ]', exprs: ['a'] }),
      (e: unknown) => e instanceof SourceError && e.location.file === '<--my>',
    );
  });
  test('dsched eval – attributes without brackets, as classad_eval takes them', () => {
    assert.deepEqual(evalCommand({ my: 'a = 1; b = a + 1', exprs: ['b'] }), ['2']);
    assert.throws(
      () => evalCommand({ my: 'a = 1; b = +', exprs: ['b'] }),
      (e: unknown) => e instanceof SourceError && e.location.column === 13 && e.sourceLine === 'a = 1; b = +',
    );
  });
  test('dsched eval – an AD that is neither inline nor a file is a usage error', () => {
    assert.throws(
      () => evalCommand({ my: '/no/such/file.ad', exprs: ['1'] }),
      (e: unknown) => e instanceof DschedError && e.code === 'USAGE',
    );
  });
});
