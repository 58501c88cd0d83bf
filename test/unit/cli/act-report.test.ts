// drm, dhold, drelease, dprio and dqedit print each job the schedd did not act on with the code its result
// carries; only a schedd older than that field (no code) leaves the CLI to tell it from the message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reportActFailures } from '../../../cli/shared/act.js';

function report(results: Array<{ ok: boolean; error: string; code?: string }>): { failed: number; lines: string[] } {
  const out: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (out.push(s), true)) as typeof process.stderr.write;
  try {
    const failed = reportActFailures('drm', results);
    return {
      failed,
      lines: out
        .join('')
        .split('\n')
        .filter((l) => l && !l.startsWith('  hint:')),
    };
  } finally {
    process.stderr.write = write;
  }
}

describe('reportActFailures', () => {
  test('the code of the result is printed, whatever its message says', () => {
    const r = report([
      { ok: true, error: '', code: '' },
      { ok: false, error: 'job 1.0 is not in the queue', code: 'PERMISSION_DENIED' },
      { ok: false, error: 'job 1.1 is already held', code: 'JOB_NOT_FOUND' },
      { ok: false, error: 'the queue is full', code: 'DISK_FULL' },
    ]);
    assert.equal(r.failed, 3);
    assert.deepEqual(r.lines, [
      'drm: error[PERMISSION_DENIED]: job 1.0 is not in the queue',
      'drm: error[JOB_NOT_FOUND]: job 1.1 is already held',
      'drm: error[DISK_FULL]: the queue is full',
    ]);
  });

  test('without a code (an older schedd), or with one this CLI does not know, the message tells it', () => {
    const r = report([
      { ok: false, error: 'job 2.0 is not in the queue' },
      { ok: false, error: 'permission denied: job 2.1 belongs to bob', code: '' },
      { ok: false, error: 'job 2.2 is already held', code: 'SOMETHING_NEW' },
    ]);
    assert.deepEqual(r.lines, [
      'drm: error[JOB_NOT_FOUND]: job 2.0 is not in the queue',
      'drm: error[PERMISSION_DENIED]: permission denied: job 2.1 belongs to bob',
      'drm: error[JOB_STATE]: job 2.2 is already held',
    ]);
  });
});
