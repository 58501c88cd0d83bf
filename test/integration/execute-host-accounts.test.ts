// A job whose owner has an account on the submit host but none on the execute host it is matched to: the
// startd cannot run it as anyone, and the job is held saying so (HTCondor's FailedToAccessUserAccount)
// rather than matched to that host again at every negotiation cycle.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TestPool, type RunOptions } from './harness/pool.js';

const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('startd – an owner with no account on the execute host', () => {
  let central: TestPool | undefined;
  let exec: TestPool | undefined;
  after(async () => {
    await exec?.stop();
    await central?.stop();
  });

  test('startd – the job is held with FailedToAccessUserAccount, naming the owner and the host', async () => {
    central = await TestPool.start({ DAEMON_LIST: 'COLLECTOR, NEGOTIATOR, SCHEDD', NEGOTIATOR_INTERVAL: '1' });
    exec = await central.startExecuteHost({}, { withoutAccounts: ['nobody'] });
    const cluster = await central.submit('-', [], { ...NOBODY, input: 'executable = /bin/true\nqueue\n' });
    const ad = await central.waitFor('the job to be held', async () => {
      const [job] = await central!.json('dq', [String(cluster)]);
      return job?.JobStatus === 5 && job;
    });
    assert.equal(ad.HoldReasonCode, 23);
    assert.match(String(ad.HoldReason), /^nobody has no account on \S+, so the job cannot run there as its owner/);
  });
});
