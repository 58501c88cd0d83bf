// A local user (uid 65534) asks for no memory at all (request_memory = 0). A slot's memory is the limit its
// job is held to, and a slot of 0 MB had none: the job could take the execute host's memory from every other
// user's job, and any number of such slots fitted beside them. A request is at least 1 MB (lib/job-requests.ts,
// read alike by the negotiator and the startd), so the job is held to it like any other.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { jobRequests } from '../../lib/job-requests.js';
import { TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

test('security – a request of 0 MB (or 0.0, or -0) is read as 1 MB by every daemon', () => {
  for (const v of [0, 0.0, -0]) {
    const r = jobRequests((n) => (n === 'RequestMemory' ? v : undefined));
    assert.equal(r.memory, 1, `RequestMemory = ${v}`);
  }
  assert.equal(jobRequests((n) => (n === 'RequestMemory' ? 100 : undefined)).memory, 100);
});

describe('security – a job that asks for no memory', { skip: needsRoot }, () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ STARTER_UPDATE_INTERVAL: '1' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – request_memory = 0 is no way out of the memory limit: the job is held over 1 MB', async () => {
    const { dir, put } = nobodyFolder(pool.work);
    put('hog.cjs', `const b = Buffer.alloc(300 * 1024 * 1024, 1);\nsetTimeout(() => console.log(b.length), 600000);\n`);
    const sub = put('hog.sub', `executable = ${process.execPath}\narguments = hog.cjs\nrequest_memory = 0\nqueue\n`);
    const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    const held = await pool.waitFor(`job ${cluster} to be held for its memory`, async () => {
      const [ad] = await pool.json('dq', [String(cluster)]);
      return ad?.JobStatus === 5 ? ad : undefined;
    });
    assert.equal(held.HoldReasonCode, 34, String(held.HoldReason));
    assert.match(String(held.HoldReason), /^Job has gone over memory limit of 1 megabytes\./);
  });
});
