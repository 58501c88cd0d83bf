// Parallel jobs across hosts, on the network-namespace pool (harness/netns.ts): one cpu per execute host,
// so a 3-chunk job with place=scatter needs three hosts, and waits, whole, for the third.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { NETNS_TEST_BACKSTOP_MS, NetnsPool, netnsUnavailable } from './harness/netns.js';

const unavailable = netnsUnavailable();
if (unavailable) console.log(`# multi-host parallel job tests skipped: ${unavailable}`);
const skip = unavailable ? `cannot make network namespaces: ${unavailable}` : false;

const GANG =
  '#!/bin/sh\n#PBS -N gang\n#PBS -l select=3:ncpus=1:mem=256mb\n#PBS -l place=scatter\n#PBS -o gang.out\n#PBS -e gang.err\necho "procno=$DSCHED_PROCNO nprocs=$DSCHED_NPROCS"\ncat "$PBS_NODEFILE"\n';

describe('parallel jobs on several hosts', () => {
  let pool: NetnsPool | undefined;
  afterEach(async () => {
    const leaks = (await pool?.stop()) ?? [];
    pool = undefined;
    assert.deepEqual(leaks, [], 'every daemon stops on SIGTERM and leaves nothing running');
  });

  /** The gang's output once it completed: its nodefile lists one line per chunk, each on its own host. */
  async function ranOnThreeHosts(p: NetnsPool, cluster: number) {
    const [ad] = await p.waitForHistory(cluster, 1, 90_000);
    assert.equal(ad!.JobStatus, 4);
    assert.equal(ad!.ExitCode, 0, readFileSync(join(p.work, 'gang.err'), 'utf8'));
    assert.equal(ad!.NumJobStarts, 1, 'started once, whole');
    const lines = readFileSync(join(p.work, 'gang.out'), 'utf8').trim().split('\n');
    assert.equal(lines.shift(), 'procno=0 nprocs=3');
    assert.deepEqual(lines.sort(), ['exec1', 'exec2', 'exec3']);
    assert.deepEqual(
      String(ad!.RemoteHosts)
        .split(',')
        .map((s) => s.split('@')[1])
        .sort(),
      ['exec1', 'exec2', 'exec3'],
    );
  }

  test(
    'parallel jobs on several hosts – a 3-chunk scattered job gets one slot on each host and lists them all in $PBS_NODEFILE',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      pool = await NetnsPool.start({ execHosts: 3, execConfig: { NUM_CPUS: '1', MEMORY: '1024' } });
      const c = await pool.submit('gang.sh', GANG);
      await ranOnThreeHosts(pool, c);
      // #PBS -l select=3:ncpus=1 (no mem): each rank says its host as $PBS_NODEFILE names it and where it runs
      const ranks = await pool.submit(
        'hosts.sh',
        `#!/bin/sh\n#PBS -l select=3:ncpus=1\n#PBS -l place=scatter\n#PBS -o hosts.out\n#PBS -e hosts.err\ncat "$PBS_NODEFILE"\ndsched-rank /bin/sh -c 'echo "rank $DSCHED_PROCNO $(sed -n "$((DSCHED_PROCNO + 1))p" "$PBS_NODEFILE") $PWD"'\n`,
      );
      const [ad] = await pool.waitForHistory(ranks, 1, 90_000);
      assert.equal(ad!.ExitCode, 0, readFileSync(join(pool.work, 'hosts.err'), 'utf8'));
      const out = readFileSync(join(pool.work, 'hosts.out'), 'utf8').trim().split('\n');
      const nodes = out.slice(0, 3);
      assert.deepEqual([...nodes].sort(), ['exec1', 'exec2', 'exec3'], 'one line per chunk, each host once');
      for (const n of [1, 2]) {
        const m = new RegExp(`^rank ${n} (exec\\d) .*/(exec\\d)/execute/dir_`, 'm').exec(out.join('\n'));
        assert.ok(m, `rank ${n} ran and said where: ${out.join(' | ')}`);
        assert.equal(m[1], nodes[n], `rank ${n} is chunk ${n}'s host in $PBS_NODEFILE`);
        assert.equal(m[2], nodes[n], `rank ${n} runs on that host`);
      }
      // every claim, the first chunk's and the two others', goes back when the job ends
      await pool.waitFor('every slot to be unclaimed again', async () =>
        (await pool!.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
      );
    },
  );

  test(
    'parallel jobs on several hosts – a gang waits, idle and whole, for its last host; dq -analyze says why; it starts when the host joins',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      pool = await NetnsPool.start({
        execHosts: 3,
        execConfig: { NUM_CPUS: '1', MEMORY: '1024' },
        notStarted: ['exec3'],
      });
      const p = pool;
      const c = await p.submit('gang.sh', GANG);
      // an ordinary job submitted after it runs: a negotiation cycle saw the gang and left it idle
      const small = await p.submit(
        'small.sub',
        'executable = /bin/true\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nrequest_memory = 128\nqueue\n',
      );
      await p.waitForHistory(small, 1);
      const [ad] = await p.json('dq', [String(c)]);
      assert.equal(ad!.JobStatus, 1, 'the gang is idle');
      assert.equal(ad!.NumJobStarts ?? 0, 0, 'no chunk of it started');
      const why = await p.run('dq', ['-analyze', String(c)]);
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /parallel job of 3 chunks \(place=scatter: each on its own host\)/);
      assert.match(why.stdout, /cannot hold it even when idle: 2 hosts can take a chunk \(exec1, exec2\)/);
      // no slot is held for it while it waits
      await p.waitFor('every slot to be unclaimed', async () =>
        (await p.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
      );

      await p.startDaemon(p.host('exec3'), 'startd');
      await ranOnThreeHosts(p, c);
    },
  );

  test(
    'parallel jobs on several hosts – dsched-rank runs a rank on each other host; a rank killed ends the whole job with its signal',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      pool = await NetnsPool.start({ execHosts: 3, execConfig: { NUM_CPUS: '1', MEMORY: '1024' } });
      const p = pool;
      const head = '#!/bin/sh\n#PBS -l select=3:ncpus=1:mem=256mb\n#PBS -l place=scatter\n';
      // each rank says where it runs: its sandbox is under its own host's home
      const c = await p.submit(
        'ranks.sh',
        `${head}#PBS -o ranks.out\n#PBS -e ranks.err\nhead -1 "$PBS_NODEFILE"\ndsched-rank /bin/sh -c 'echo "rank $DSCHED_PROCNO $PWD"'\n`,
      );
      const [ad] = await p.waitForHistory(c, 1, 90_000);
      assert.equal(ad!.ExitCode, 0, readFileSync(join(p.work, 'ranks.err'), 'utf8'));
      const [first, ...ranks] = readFileSync(join(p.work, 'ranks.out'), 'utf8').trim().split('\n');
      const hostOfRank = ranks
        .map((l) => /^rank (\d) .*\/(exec\d)\/execute\/dir_/.exec(l))
        .map((m) => (m ? `${m[1]}@${m[2]}` : 'no match'));
      assert.equal(hostOfRank.length, 2, ranks.join('\n'));
      const hosts = [first!, ...hostOfRank.map((h) => h.split('@')[1]!)];
      assert.deepEqual([...hosts].sort(), ['exec1', 'exec2', 'exec3'], `three hosts: ${hosts.join(', ')}`);
      assert.deepEqual(
        hostOfRank.map((h) => h.split('@')[0]),
        ['1', '2'],
      );

      // rank 2 is killed; rank 1 and the first chunk would sleep for ten minutes
      const k = await p.submit(
        'kill.sh',
        `${head}#PBS -o /dev/null\n#PBS -e /dev/null\ndsched-rank /bin/sh -c 'if [ "$DSCHED_PROCNO" = 2 ]; then kill -9 $$; fi; exec sleep 600' &\nexec sleep 600\n`,
      );
      const [killed] = await p.waitForHistory(k, 1, 90_000);
      assert.equal(killed!.JobStatus, 4, 'the job ended (it is not run again)');
      assert.equal(killed!.ExitBySignal, true);
      assert.equal(killed!.ExitSignal, 9, 'with the signal that killed the rank');
      assert.equal(killed!.NumJobStarts, 1);
      // every claim goes back; stop() then finds no process of any rank left in any host's namespace
      await p.waitFor('every slot to be unclaimed again', async () =>
        (await p.json('dstatus', [])).every((s) => s.State !== 'Claimed'),
      );
    },
  );
});
