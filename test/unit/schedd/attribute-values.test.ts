// schedd – a job attribute's value: a literal as written, an expression evaluated in the job's own ad (its
// cluster's attributes and its own), never against an empty ad, where `ifThenElse(isUndefined(X), 10, X)` is 10
// whatever the job's X. An attribute the schedd checks at submit or acts on by value must be a literal, since a
// check of an expression without the job's ad would not hold for the job.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DschedError } from '../../../lib/errors.js';
import { JobQueue, litValue } from '../../../daemons/schedd/queue.js';
import { openQueueDb } from '../../../daemons/schedd/store/db.js';
import { makeSchedd } from './helpers.js';

const owner = { kind: 'user', name: 'nobody', admin: false } as const;

describe('schedd – job attribute values', () => {
  test('litValue – literals only: an expression has no value without its ad', () => {
    assert.equal(litValue('5'), 5);
    assert.equal(litValue('-5'), -5);
    assert.equal(litValue('(2.5)'), 2.5);
    assert.equal(litValue('"x"'), 'x');
    assert.equal(litValue('true'), true);
    assert.equal(litValue('ifThenElse(isUndefined(X), 10, X)'), undefined);
    assert.equal(litValue('time()'), undefined);
    assert.equal(litValue('1 + 1'), undefined);
  });

  test('JobQueue.value – an expression is evaluated in the job’s ad, with its cluster’s attributes', () => {
    const queue = new JobQueue(openQueueDb(':memory:'));
    const schedd = makeSchedd(queue);
    const id = queue.reserveCluster('nobody');
    const [a, b] = schedd.submit(
      owner,
      id,
      { Cmd: '"/bin/true"', Limit: 'ifThenElse(isUndefined(X), 10, X)', Base: '4', Twice: 'Base * 2' },
      [{ X: '3' }, {}],
    );
    assert.equal(queue.value(a!, 'Limit'), 3, 'the proc’s X');
    assert.equal(queue.value(b!, 'Limit'), 10, 'no X: the default');
    assert.equal(queue.value(a!, 'Twice'), 8, 'the cluster’s Base');
    assert.equal(queue.value(a!, 'Base'), 4);
    assert.equal(queue.value(a!, 'Missing'), undefined);
  });

  const refused: Array<[string, Record<string, string>, string]> = [
    ['AccountingGroup', { AccountingGroup: 'ifThenElse(isUndefined(X), "g.alice", "g.bob")' }, 'PERMISSION_DENIED'],
    ['AcctGroupUser', { acctgroupuser: 'ifThenElse(true, "alice", "bob")' }, 'PERMISSION_DENIED'],
    ['NotifyUser', { NotifyUser: 'ifThenElse(isUndefined(X), "alice", "-oProxyCommand=x")' }, 'SUBMIT_INVALID'],
    ['JobUniverse', { JobUniverse: 'ifThenElse(isUndefined(X), 5, 7)' }, 'SUBMIT_INVALID'],
    ['JobStatus', { JobStatus: 'ifThenElse(isUndefined(X), 1, 2)' }, 'SUBMIT_INVALID'],
    ['PbsDepend', { PbsDepend: 'strcat("after", "ok:1")' }, 'SUBMIT_INVALID'],
  ];
  for (const [name, attrs, code] of refused)
    test(`schedd submit – an expression for ${name} is refused, nothing queued`, () => {
      const queue = new JobQueue(openQueueDb(':memory:'));
      const schedd = makeSchedd(queue);
      const id = queue.reserveCluster('nobody');
      assert.throws(
        () => schedd.submit(owner, id, { Cmd: '"/bin/true"', ...attrs }, [{}]),
        (e: unknown) => e instanceof DschedError && e.code === code,
      );
      assert.equal(queue.jobs.size, 0);
    });

  for (const attr of ['Out', 'UserLog'])
    test(`schedd submit – an expression for the file ${attr} is refused`, () => {
      const queue = new JobQueue(openQueueDb(':memory:'));
      const schedd = makeSchedd(queue);
      const id = queue.reserveCluster('nobody');
      assert.throws(
        () =>
          schedd.submit(
            owner,
            id,
            { Cmd: '"/bin/true"', Iwd: '"/tmp"', [attr]: 'ifThenElse(isUndefined(X), "/tmp/a", "/tmp/b")' },
            [{}],
          ),
        (e: unknown) =>
          e instanceof DschedError && e.code === 'JOB_FILE_REFUSED' && /is not a file name/.test(e.message),
      );
      assert.equal(queue.jobs.size, 0);
    });
});
