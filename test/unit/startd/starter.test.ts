// The starter (starter.ts) around a spawner that dies: a job started while the spawner is down waits for
// the next one instead of being written to a dead pipe (it then neither started nor ended, and its slot
// stayed claimed for good), and one stopped before that is ended without running.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ClassAd } from '../../../grammar/classad/index.js';
import { Starter } from '../../../daemons/startd/starter.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-starter-'));
const errors: string[] = [];
const starter = new Starter((msg) => errors.push(msg));
let seq = 0;
// the starter's restart timer does not hold the process open (a daemon's server does)
const keepAlive = setInterval(() => {}, 1000);

/** Kill the current spawner and wait until the starter has seen it die. */
async function killSpawner() {
  const child = (starter as unknown as { child: import('node:child_process').ChildProcess }).child;
  child.kill('SIGKILL');
  await once(child, 'close');
}

function start(cmd: string, args: string) {
  const ad = ClassAd.fromRecord({
    Cmd: JSON.stringify(cmd),
    Arguments: JSON.stringify(args),
    Iwd: JSON.stringify(dir),
  });
  return starter.start({ ad, sandbox: join(dir, `sandbox${++seq}`), slotName: 'slot1', extraEnv: {} });
}

describe('starter', () => {
  after(async () => {
    clearInterval(keepAlive);
    await starter.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    'starter – a job started while the spawner is down runs once the spawner is back',
    { timeout: 60_000 },
    async () => {
      await killSpawner();
      const job = start('/bin/sh', "-c 'exit 3'");
      const outcome = await job.done;
      assert.deepEqual({ kind: outcome.kind, exitCode: outcome.exitCode }, { kind: 'exited', exitCode: 3 });
      assert.match(errors.join('\n'), /spawner exited/);
    },
  );

  test('starter – a job stopped before the spawner is back ends without running', { timeout: 60_000 }, async () => {
    await killSpawner();
    const job = start('/bin/sh', "-c 'exit 3'");
    starter.signal(job, 'SIGKILL');
    const outcome = await job.done;
    assert.equal(outcome.signal, 9);
    assert.equal(job.pid, 0, 'the job never started');
  });
});
