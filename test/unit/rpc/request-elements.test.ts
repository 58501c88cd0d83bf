import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PARAMS } from '../../../lib/config/params.js';
import { DschedError } from '../../../lib/errors.js';
import { checkRequestElements, REQUEST_ELEMENTS, requestElements } from '../../../lib/rpc/request-elements.js';

/** A SubmitRequest's bytes with `procs` procs of nothing of their own (field 3, each an empty Ad: 2 bytes). */
const emptyProcs = (procs: number) => Buffer.alloc(procs * 2).fill(Buffer.from([0x1a, 0x00]));
const PROCS = new Set([3]);
const refused = (bytes: Uint8Array, max: number) => {
  try {
    checkRequestElements(bytes, PROCS, 'send the procs in pieces', max);
    return undefined;
  } catch (e) {
    return e;
  }
};

describe('request elements', () => {
  test('request elements – a whole submission of as many procs as MAX_JOBS_PER_SUBMISSION allows fits, by default and raised', () => {
    for (const maxProcs of [Number(PARAMS.MAX_JOBS_PER_SUBMISSION.default), 1_500_000, 4_000_000]) {
      const max = requestElements(maxProcs);
      assert.equal(refused(emptyProcs(maxProcs), max), undefined, `${maxProcs} procs`);
      const e = refused(emptyProcs(max + 1), max);
      assert.ok(e instanceof DschedError && e.code === 'INPUT_TOO_LARGE', String(e));
      assert.match(e.message, new RegExp(`more than ${max} elements .*pieces`));
    }
  });

  test('request elements – a lower limit keeps room for a piece of a submission', () => {
    assert.equal(requestElements(1), REQUEST_ELEMENTS);
    assert.equal(requestElements(10_000), REQUEST_ELEMENTS);
  });
});
