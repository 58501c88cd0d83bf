// The terminate event (005) reports what the run used, as HTCondor's does: the CPU time the startd measured
// (RemoteUserCpu/RemoteSysCpu), the bytes file transfer moved each way, and the Cpus/Disk/Memory table of
// usage, request and allocation.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('terminate event', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ POLLING_INTERVAL: '1' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('terminate event – real Usr/Sys times, transferred bytes and the resources table', async () => {
    writeFileSync(join(pool.work, 'in.dat'), 'x'.repeat(1000));
    const stop = join(pool.work, 'stop');
    // busy until told to stop (once the startd has measured some CPU time), then writes 500 bytes of output
    pool.file(
      'cpu.sub',
      `executable = /bin/sh\narguments = "-c 'while [ ! -f ${stop} ]; do :; done; head -c 500 /dev/zero > out.dat'"\n` +
        'transfer_executable = false\nshould_transfer_files = YES\ntransfer_input_files = in.dat\nrequest_memory = 64\nlog = cpu.log\nqueue\n',
    );
    const c = await pool.submit('cpu.sub');
    await pool.waitFor(
      'CPU time to be measured',
      async () => Number((await pool.json('dq', [String(c)]))[0]?.RemoteUserCpu ?? 0) >= 1,
      60_000,
    );
    writeFileSync(stop, '');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.BytesSent, 1000, 'the input sent to the job');
    assert.equal(ad!.BytesRecvd, 500, 'the output received from it');
    const log = pool.read('cpu.log');
    const term = log.slice(log.indexOf('Job terminated.'));
    const usr = /Usr 0 (\d\d):(\d\d):(\d\d), Sys 0 \d\d:\d\d:\d\d {2}- {2}Run Remote Usage/.exec(term);
    assert.ok(usr && Number(usr[1]) * 3600 + Number(usr[2]) * 60 + Number(usr[3]) >= 1, term);
    assert.match(
      term,
      /\t500 {2}- {2}Run Bytes Sent By Job\n\t1000 {2}- {2}Run Bytes Received By Job\n\t500 {2}- {2}Total Bytes Sent By Job\n\t1000 {2}- {2}Total Bytes Received By Job\n/,
    );
    assert.match(term, /\tPartitionable Resources : +Usage +Request +Allocated/);
    assert.match(term, /\t {3}Cpus +: +[\d.]+ +1 +1 *\n/);
    assert.match(term, /\t {3}Memory \(MB\) +: +\d+ +64 +64 *\n/);
    assert.match(term, /\t {3}Disk \(KB\) +: +\d+ +\d+ +\d+ *\n/);
  });
});
