// schedd submit – a scheduler-universe job must be a DAG: the schedd runs no other kind, so one that names no
// DAG file would stay idle for ever. dsubmit refuses such a file at its line; the schedd refuses it from any client.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DschedError } from '../../../lib/errors.js';
import { JobQueue } from '../../../daemons/schedd/queue.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { makeSchedd } from './helpers.js';

const alice = { kind: 'user', name: 'alice', admin: false } as const;

describe('schedd submit – the scheduler universe', () => {
  const refused: Array<[string, Record<string, string>, Array<Record<string, string>>]> = [
    ['JobUniverse = 7 and no DAGManDagFile', { JobUniverse: '7', Cmd: '"/bin/true"' }, [{}]],
    ['the universe spelt in lower case', { jobuniverse: '7', Cmd: '"/bin/true"' }, [{}]],
    ['the universe written as a real', { JobUniverse: '7.0', Cmd: '"/bin/true"' }, [{}]],
    ['a DAGManDagFile that is not a string', { JobUniverse: '7', DAGManDagFile: '42' }, [{}]],
    [
      'one proc of a vanilla cluster made scheduler-universe',
      { JobUniverse: '5', Cmd: '"/bin/true"' },
      [{}, { JobUniverse: '7' }],
    ],
  ];
  for (const [name, cluster, procs] of refused)
    test(`schedd submit – refused: ${name}`, () => {
      const queue = new JobQueue(openQueueDb(':memory:'));
      const schedd = makeSchedd(queue);
      const id = queue.reserveCluster('alice');
      assert.throws(
        () => schedd.submit(alice, id, cluster, procs),
        (e: unknown) =>
          e instanceof DschedError &&
          e.code === 'SUBMIT_INVALID' &&
          /must be a DAG, and this one names no DAG file \(DAGManDagFile\)/.test(e.message),
      );
      assert.equal(queue.jobs.size, 0, 'nothing was queued');
    });
});
