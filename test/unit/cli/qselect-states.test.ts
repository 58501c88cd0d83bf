// qselect – -s takes every job state letter PBS Pro's qselect takes (B E F H M Q R S T U W X); F and X (a finished
// job, a finished subjob) imply -x, as finished jobs are only in the history; each letter picks what qstat shows so.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { pbsState } from '../../../cli/shared/pbs-view.js';
import { hostCommands } from '../../../cli/shared/run-cli.js';
import { DschedError } from '../../../lib/errors.js';

// dshim runs its main when it loads unless commands are hosted (as the command agent loads it)
hostCommands(() => {});
const { qselectArgs } = await import('../../../cli/dshim.js');

const subjob = (status: number) =>
  ClassAd.fromRecord({
    ClusterId: '12',
    ProcId: '0',
    PbsJobId: '"12[].server"',
    PbsArrayIndex: '1',
    JobStatus: String(status),
  });
const plain = (status: number) =>
  ClassAd.fromRecord({ ClusterId: '11', ProcId: '0', PbsJobId: '"11.server"', JobStatus: String(status) });
const condor = (status: number) => ClassAd.fromRecord({ ClusterId: '10', ProcId: '0', JobStatus: String(status) });

/** Whether `qselect -s letters` selects the ad (its -constraint), and whether it asks for the history (-x). */
function selects(letters: string, ad: ClassAd): { selected: boolean; history: boolean } {
  const { args } = qselectArgs(['-s', letters]);
  const constraint = args[args.indexOf('-constraint') + 1]!;
  return { selected: ad.evalExpr(constraint) === true, history: args.includes('-x') };
}

describe('qselect – job states', () => {
  test('qselect – -s X selects finished subjobs, -s F finished whole jobs, both with -x', () => {
    for (const status of [3, 4]) {
      assert.deepEqual(selects('X', subjob(status)), { selected: true, history: true });
      assert.deepEqual(selects('X', plain(status)), { selected: false, history: true });
      assert.deepEqual(selects('X', condor(status)), { selected: false, history: true });
      assert.equal(selects('F', subjob(status)).selected, false);
      assert.deepEqual(selects('F', plain(status)), { selected: true, history: true });
      assert.equal(selects('F', condor(status)).selected, true);
      assert.equal(selects('FX', subjob(status)).selected, true);
    }
    assert.equal(selects('X', subjob(2)).selected, false);
    assert.equal(selects('R', subjob(2)).history, false);
  });

  test('qselect – each letter selects the jobs qstat shows with it', () => {
    const ads = [1, 2, 4, 5, 6, 7].flatMap((s) => [subjob(s), plain(s), condor(s)]);
    for (const ad of ads) {
      const shown = pbsState(ad);
      assert.equal(selects(shown, ad).selected, true, `${shown}: ${ad.toString()}`);
    }
  });

  test('qselect – every PBS Pro state letter is taken; B, M, T, U, W select nothing here; others are usage errors', () => {
    for (const letter of 'BEFHMQRSTUWX') assert.doesNotThrow(() => qselectArgs(['-s', letter]), letter);
    for (const letter of 'BMTUW')
      for (const ad of [subjob(2), plain(1), condor(4)]) assert.equal(selects(letter, ad).selected, false);
    for (const bad of ['Z', 'q', 'C', '']) {
      assert.throws(
        () => qselectArgs(['-s', bad]),
        (e: unknown) => e instanceof DschedError && e.code === 'USAGE' && /B.*X/.test(e.message),
        bad,
      );
    }
  });
});
