// Torque and PBS scripts as users bring them from their old cluster: what a script asks for with the old
// resource words must run as PBS Pro would run it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('torque habits', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('torque habits – -l nodes=2:ppn=2 is two chunks of 2 cpus (a parallel job, scattered unless -l place says otherwise), not one job of 4 cpus', async () => {
    // the common MPI script: $PBS_NODEFILE has one line per process, ppn of them per host
    const script = '#!/bin/sh\n#PBS -N mpi\n#PBS -l nodes=2:ppn=2\necho NCPUS=$NCPUS\nwc -l < $PBS_NODEFILE\n';
    pool.file('scattered.sh', script, 0o755);
    const dry = await pool.run('dsubmit', ['--dry-run', 'scattered.sh']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stderr, /one job on one host/, 'no warning: it is what the script asked for');
    assert.match(dry.stdout, /MachineCount = 2\b/);
    assert.match(dry.stdout, /RequestCpus = 2\b/);
    assert.match(dry.stdout, /GangPlacement = "scatter"/);

    // on this one-host pool the chunks may share the host only when the script says so
    pool.file('free.sh', script.replace('#PBS -N mpi\n', '#PBS -N mpi\n#PBS -l place=free\n'), 0o755);
    const c = await pool.submit('free.sh');
    const [ad] = await pool.waitForHistory(c, 1, 60_000);
    assert.equal(ad!.ExitCode, 0);
    assert.equal(ad!.MachineCount, 2);
    assert.equal(ad!.RequestCpus, 2);
    assert.equal(pool.read(`mpi.o${c}`), 'NCPUS=2\n4\n');
  });
});
