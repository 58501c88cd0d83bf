// The one job-id parser every command uses (cli/shared/job-id.ts): HTCondor's and PBS's forms, one error text.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { JOB_ID_FORMS, notAJobId, parseJobId, resolveSubjobs } from '../../../cli/shared/job-id.js';
import { parseSelection } from '../../../cli/shared/job-selection.js';

describe('job ids – one reading for every command', () => {
  test('cluster, cluster.proc and the PBS forms qsub prints', () => {
    const cases: Array<[string, ReturnType<typeof parseJobId>]> = [
      ['12', { cluster: 12, proc: -1 }],
      ['12.3', { cluster: 12, proc: 3 }],
      ['12.vm', { cluster: 12, proc: -1 }],
      ['12.node7.example.org', { cluster: 12, proc: -1 }],
      ['12[]', { cluster: 12, proc: -1 }],
      ['12[].vm', { cluster: 12, proc: -1 }],
      ['12[4]', { cluster: 12, proc: -1, index: 4 }],
      ['12[4].vm', { cluster: 12, proc: -1, index: 4 }],
      ['12[x]', undefined],
      ['12.3.4', undefined],
      ['12.', undefined],
      ['-12', undefined],
      ['alice', undefined],
      ['1234567890123456', undefined],
    ];
    for (const [w, want] of cases) assert.deepEqual(parseJobId(w), want, w);
  });

  test('one error text, naming every form', () => {
    assert.equal(notAJobId('5[x]').message, `"5[x]" is not a job id (${JOB_ID_FORMS})`);
    assert.equal(
      notAJobId('5[x]', 'a job event log file').message,
      `"5[x]" is neither a job id (${JOB_ID_FORMS}) nor a job event log file`,
    );
    assert.throws(() => parseSelection(['5[x]']), {
      message: `"5[x]" is neither a job id (${JOB_ID_FORMS}) nor a user name`,
    });
    assert.ok(notAJobId('9'.repeat(500)).message.length < 300);
  });

  test('a subjob is found by its array index, in the queue or else in the history', async () => {
    const asked: unknown[] = [];
    const schedd = {
      query: async (q: { history?: boolean; constraint?: string }) => {
        asked.push(q);
        return q.history && q.constraint === 'PbsArrayIndex == 3' ? [{ ProcId: '2' }] : [];
      },
    };
    assert.deepEqual(
      await resolveSubjobs(schedd as never, [
        { cluster: 7, proc: 1 },
        { cluster: 7, proc: -1, index: 3 },
      ]),
      [
        { cluster: 7, proc: 1 },
        { cluster: 7, proc: 2 },
      ],
    );
    assert.equal(asked.length, 2);
    await assert.rejects(resolveSubjobs(schedd as never, [{ cluster: 7, proc: -1, index: 9 }]), {
      code: 'JOB_NOT_FOUND',
      message: 'job 7[9] is neither in the queue nor in the history',
    });
  });
});
