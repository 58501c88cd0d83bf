// dqedit's rules, without a pool: which attributes anyone, admins or no one may change, values parsed as
// ClassAd expressions, and resource requests only while a job is idle or held.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkEdits, editRefusal } from '../../../daemons/schedd/edit.js';
import type { Job } from '../../../daemons/schedd/queue.js';
import type { Identity } from '../../../lib/rpc/auth.js';

const alice: Identity = { kind: 'user', name: 'alice', admin: false };
const admin: Identity = { kind: 'user', name: 'root', admin: true };
const job = (status: number, owner = 'alice', claim?: object) =>
  ({ cluster: 7, proc: 0, owner, status, claim, attrs: {} }) as unknown as Job;

describe('schedd – job edit rules', () => {
  test('schedd – immutable attributes are refused for everyone, protected ones for users', () => {
    for (const name of ['Owner', 'clusterid', 'ProcId', 'JobStatus', 'QDate', 'GlobalJobId'])
      for (const who of [alice, admin])
        assert.throws(() => checkEdits([{ name, value: '1' }], who), /cannot be changed/, name);
    for (const name of [
      'RemoteHost',
      'Cmd',
      'Out',
      'AccountingGroup',
      'DAGManJobId',
      'ExitCode',
      'GangSlots',
      'GangStartds',
      'RemoteHosts',
    ]) {
      assert.throws(() => checkEdits([{ name, value: '1' }], alice), /is protected: only a pool admin/, name);
      assert.doesNotThrow(() => checkEdits([{ name, value: '1' }], admin), name);
    }
    assert.deepEqual(checkEdits([{ name: 'Label', value: ' "x" ' }], alice), [{ name: 'Label', value: '"x"' }]);
  });

  test('schedd – values must be ClassAd expressions; names must be attribute names', () => {
    assert.throws(
      () => checkEdits([{ name: 'Label', value: 'a b' }], alice),
      (e: Error & { code?: string }) => e.code === 'CLASSAD_SYNTAX',
    );
    assert.throws(() => checkEdits([{ name: 'bad-name', value: '1' }], alice), /not an attribute name/);
    assert.throws(() => checkEdits([], alice), /at least one attribute/);
  });

  test('schedd – only the owner or an admin edits; Request* only while idle or held', () => {
    assert.match(editRefusal(job(1, 'bob'), [{ name: 'JobPrio', value: '1' }], alice)!.error, /belongs to bob/);
    assert.equal(editRefusal(job(1, 'bob'), [{ name: 'JobPrio', value: '1' }], alice)!.code, 'PERMISSION_DENIED');
    assert.equal(editRefusal(job(1, 'bob'), [{ name: 'JobPrio', value: '1' }], admin), undefined);
    assert.equal(editRefusal(job(2), [{ name: 'JobPrio', value: '1' }], alice), undefined);
    assert.match(
      editRefusal(job(2), [{ name: 'RequestMemory', value: '1' }], alice)!.error,
      /not idle or held: RequestMemory/,
    );
    assert.equal(editRefusal(job(2), [{ name: 'RequestMemory', value: '1' }], alice)!.code, 'JOB_STATE');
    assert.match(
      editRefusal(job(1, 'alice', { id: 'c' }), [{ name: 'RequestCpus', value: '2' }], alice)!.error,
      /not idle or held/,
    );
    assert.equal(editRefusal(job(5), [{ name: 'RequestCpus', value: '2' }], alice), undefined);
  });
});
