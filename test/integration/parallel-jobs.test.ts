// Parallel jobs on one execute host with several cpus (the multi-host cases are in
// parallel-jobs-multi-host.test.ts): PBS select=N chunks and universe = parallel get all their slots at
// once, the first chunk runs the script with every chunk's host in $PBS_NODEFILE, and a gang that cannot
// be placed whole waits, idle, with nothing claimed.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

describe('parallel jobs', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '4', MEMORY: '4096', PERIODIC_EXPR_INTERVAL: '60' });
  });
  after(async () => {
    await pool?.stop();
  });

  test('parallel jobs – select=3 chunks run as one job: the first chunk runs the script and $PBS_NODEFILE lists every chunk', async () => {
    pool.file(
      'gang.sh',
      '#!/bin/sh\n#PBS -N gang\n#PBS -l select=3:ncpus=1:mem=256mb:mpiprocs=2\ncat "$PBS_NODEFILE"\necho "procno=$DSCHED_PROCNO nprocs=$DSCHED_NPROCS"\n',
      0o755,
    );
    const c = await pool.submit('gang.sh');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, pool.read(`gang.e${c}`));
    assert.equal(ad!.MachineCount, 3);
    assert.equal(String(ad!.RemoteHosts).split(',').length, 3, 'three slots were claimed for it');
    const lines = pool.read(`gang.o${c}`).trim().split('\n');
    assert.equal(lines.pop(), 'procno=0 nprocs=3');
    // one line per MPI process of each chunk: 3 chunks × 2, all on this host
    assert.equal(lines.length, 6, lines.join('\n'));
    const host = lines[0]!;
    assert.ok(host === hostname() || host.length > 0);
    assert.ok(lines.every((l) => l === host));
    // every claim of the gang, the first chunk's and the others', is given back once it ends
    await pool.waitFor('every slot to be unclaimed again', async () =>
      (await pool.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
    );
  });

  test('parallel jobs – universe = parallel with machine_count = 2 runs once with both machines, and dq -run and -better-analyze name both while it runs', async () => {
    pool.file(
      'par.sh',
      `#!/bin/sh\necho "procno=$DSCHED_PROCNO nprocs=$DSCHED_NPROCS"\nwc -l < "$DSCHED_NODEFILE"\nwhile [ ! -e ${pool.work}/par-go ]; do sleep 0.1; done\n`,
      0o755,
    );
    pool.file(
      'par.sub',
      'universe = parallel\nmachine_count = 2\nexecutable = par.sh\nrequest_memory = 256\noutput = par.out\nerror = par.err\nqueue\n',
    );
    const c = await pool.submit('par.sub');
    const [running] = await pool.waitFor('the parallel job to run', async () => {
      const ads = await pool.json('dq', [String(c)]);
      return ads[0]?.JobStatus === 2 && ads;
    });
    const slots = String(running!.RemoteHosts).split(',');
    assert.equal(slots.length, 2, String(running!.RemoteHosts));
    // RemoteHost names only the first slot: the views name every one
    const run = await pool.output('dq', ['-run', String(c)]);
    assert.match(run, new RegExp(`^${c}\\.0 .* ${slots.join(',')}$`, 'm'), run);
    const why = await pool.output('dq', ['-better-analyze', String(c)]);
    assert.match(why, new RegExp(`^Why: it is running on ${slots.join(', ')}\\.$`, 'm'), why);
    pool.file('par-go', '');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, pool.read('par.err'));
    assert.equal(pool.read('par.out').replace(/ +/g, ''), 'procno=0nprocs=2\n2\n');
  });

  test('parallel jobs – dsched-rank runs a program on each other chunk, waits for them, and prints what each wrote', async () => {
    pool.file(
      'ranks.sh',
      '#!/bin/sh\n#PBS -N ranks\n#PBS -l select=3:ncpus=1:mem=256mb\necho "first $DSCHED_PROCNO"\ndsched-rank /bin/sh -c \'echo "rank $DSCHED_PROCNO of $DSCHED_NPROCS"; echo "to stderr $DSCHED_PROCNO" >&2\'\necho "ranks ended with $?"\n',
      0o755,
    );
    const c = await pool.submit('ranks.sh');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.ExitCode, 0, pool.read(`ranks.e${c}`));
    assert.equal(pool.read(`ranks.o${c}`), 'first 0\nrank 1 of 3\nrank 2 of 3\nranks ended with 0\n');
    assert.equal(pool.read(`ranks.e${c}`), 'to stderr 1\nto stderr 2\n');
    await pool.waitFor('every slot to be unclaimed again', async () =>
      (await pool.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
    );
  });

  test('parallel jobs – a rank that exits non-zero ends the whole job with its status, and every rank is stopped', async () => {
    pool.file(
      'fail.sh',
      '#!/bin/sh\n#PBS -N fail\n#PBS -l select=3:ncpus=1:mem=256mb\ndsched-rank /bin/sh -c \'if [ "$DSCHED_PROCNO" = 2 ]; then exit 3; fi; exec sleep 600\' &\nexec sleep 600\n',
      0o755,
    );
    const c = await pool.submit('fail.sh');
    const [ad] = await pool.waitForHistory(c, 1);
    assert.equal(ad!.JobStatus, 4, 'completed, not requeued');
    assert.equal(ad!.ExitBySignal, false);
    assert.equal(ad!.ExitCode, 3, 'the status of the rank that failed');
    assert.equal(ad!.NumJobStarts, 1);
    await pool.waitFor('every slot to be unclaimed again', async () =>
      (await pool.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
    );
  });

  test('parallel jobs – dsched-rank outside a parallel job says so and starts nothing', async () => {
    const outside = await pool.run('dsched-rank', ['/bin/true']);
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /error\[USAGE\]: dsched-rank works inside the first chunk of a parallel job/);
  });

  test('parallel jobs – a gang that can never fit whole stays idle with nothing claimed, and does not block other jobs', async () => {
    // five scattered chunks, one host: never
    pool.file('big.sh', '#!/bin/sh\n#PBS -l select=5:ncpus=1:mem=128mb\n#PBS -l place=scatter\ntrue\n', 0o755);
    const big = await pool.submit('big.sh');
    pool.file(
      'small.sub',
      'executable = /bin/true\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nrequest_memory = 128\nqueue 2\n',
    );
    const small = await pool.submit('small.sub');
    await pool.waitForHistory(small, 2);
    // the small jobs' claims go back once they end; none is taken for the gang meanwhile
    await pool.waitFor('every slot to be unclaimed again', async () =>
      (await pool.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
    );
    const [ad] = await pool.json('dq', [String(big)]);
    assert.equal(ad!.JobStatus, 1, 'still idle');
    assert.equal(ad!.NumJobStarts ?? 0, 0, 'never started, not even in part');
    assert.equal((await pool.run('drm', [String(big)])).code, 0);
  });
});
