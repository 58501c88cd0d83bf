// The elastic pool on Slurm pilots: a real single-host Slurm (munged, slurmctld, slurmd from Debian's
// slurm-wlm and munge, started here with a temp config) and a pool with no execute host whose provisioner
// submits pilot jobs with sbatch. Each pilot joins with its one-time join token and runs a startd; the pool
// runs the queue on two pilots and shrinks back to zero (drained, scancel, certificate revoked). A pilot
// whose allocation ends (Slurm's SIGTERM) while a job runs gives the job back to the queue: it runs again
// on the next pilot, and is recorded once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { SlurmCluster, slurmUnavailable } from './harness/slurm.js';

const unavailable = slurmUnavailable();
if (unavailable) console.log(`# elastic pool (Slurm) tests skipped: ${unavailable}`);
const skip = unavailable ? `no Slurm here: ${unavailable}` : false;

function logRecords(pool: TestPool, daemon: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let text: string;
  try {
    text = readFileSync(join(pool.home, 'log', `${daemon}.log`), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    try {
      if (line.trim()) out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a cut line */
    }
  }
  return out;
}

describe('elastic pool – Slurm pilots', { skip }, () => {
  let slurm: SlurmCluster;
  let pool: TestPool;
  before(async () => {
    slurm = await SlurmCluster.start();
    pool = await TestPool.start({
      DAEMON_LIST: 'COLLECTOR, NEGOTIATOR, SCHEDD, PROVISIONER',
      PROVISIONER_PROVIDER: 'slurm',
      PROVISIONER_SLURM_CONF: slurm.conf,
      PROVISIONER_SLURM_PILOT_DIR: join(slurm.dir, 'pilots'),
      PROVISIONER_SLURM_SBATCH_ARGS: '--cpus-per-task=1, --time=30',
      PROVISIONER_MIN_HOSTS: '0',
      PROVISIONER_MAX_HOSTS: '2',
      PROVISIONER_IDLE_TIMEOUT: '4',
      PROVISIONER_INTERVAL: '1',
      PROVISIONER_START_TIMEOUT: '120',
      PROVISIONER_HOST_CONFIG: 'UPDATE_INTERVAL = 2; JOB_LEASE_DURATION = 20; KILL_GRACE = 2; MEMORY = 1024',
    });
  });
  after(async () => {
    await pool?.stop();
    await slurm?.stop();
  });

  const events = (kind: string) => logRecords(pool, 'provisioner').filter((r) => r.event === kind);
  const diag = () => `${pool.logs()}\n${slurm.logs()}`;

  test('elastic pool – a pool with no execute host runs a queue on two Slurm pilots, then shrinks to zero', async () => {
    assert.deepEqual(await pool.json('dstatus', []), [], 'the pool starts with no execute host');
    const status = await pool.run('dsched', ['status']);
    assert.equal(
      status.code,
      0,
      `dsched status: every daemon up, the provisioner too\n${status.stdout}${status.stderr}`,
    );
    assert.match(status.stdout, /provisioner/);
    pool.file(
      'four.sub',
      `executable = /bin/sh\ntransfer_executable = false\narguments = "-c 'sleep 2; exit $(Process)'"\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nqueue 4\n`,
    );
    const cluster = await pool.submit('four.sub');
    const hist = await pool
      .waitForHistory(cluster, 4, 240_000)
      .catch((e: Error) => assert.fail(`${e.message}\n${diag()}`));
    const starts = events('start');
    assert.equal(starts.length, 2, `two pilots submitted, no more (PROVISIONER_MAX_HOSTS): ${JSON.stringify(starts)}`);
    const pilots = new Set(starts.map((s) => String(s.host)));
    assert.deepEqual(
      hist.map((j) => [j.ProcId, j.ExitCode]).sort(),
      [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      'every job completed once, with its exit code',
    );
    for (const j of hist)
      assert.ok(
        pilots.has(String(j.LastRemoteHost).split('@').pop()!),
        `job ${j.ProcId} ran on a pilot (${j.LastRemoteHost})`,
      );

    await pool.waitFor('both pilots retired', () => events('retire').length === 2, 120_000);
    assert.equal(events('drain').length, 2, 'each pilot was drained before it was cancelled');
    await pool.waitFor('the pilot jobs to leave the Slurm queue', () => slurm.jobs().length === 0, 90_000);
    await pool.waitFor('no slot left in dstatus', async () => (await pool.json('dstatus', [])).length === 0, 60_000);
    // a retire line is logged as the pilot is cancelled; its certificate is revoked after it, in the same pass
    const revoked = () =>
      new Set(
        (
          JSON.parse(readFileSync(join(pool.home, 'spool', 'revoked.json'), 'utf8')) as {
            hosts: Array<{ host: string }>;
          }
        ).hosts.map((h) => h.host),
      );
    await pool.waitFor("the pilots' certificates to be revoked", () => [...pilots].every((p) => revoked().has(p)));
    assert.deepEqual(revoked(), pilots, "the pilots' certificates are revoked, no other host's");
  });

  test('elastic pool – a pilot whose allocation ends gives its running job back; it runs again on a new pilot', async () => {
    const before = events('start').length;
    const marker = join(pool.work, 'first-run');
    pool.file(
      'long.sub',
      `executable = /bin/sh\ntransfer_executable = false\narguments = "-c 'test -e ${marker} && exit 5; touch ${marker}; sleep 600'"\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nqueue\n`,
    );
    const cluster = await pool.submit('long.sub');
    const running = await pool.waitFor(
      'the job to run on a pilot',
      async () => (await pool.json('dq', [String(cluster)])).find((j) => j.JobStatus === 2),
      180_000,
    );
    const host = String(running.RemoteHost).split('@').pop();
    const pilot = events('start').find((s) => s.host === host);
    assert.ok(pilot, `the job runs on a pilot this provisioner started (${host})`);
    // the end of the allocation: Slurm sends the pilot SIGTERM (as at its time limit)
    assert.equal(slurm.cmd('scancel', [String(pilot.id)]).code, 0);
    const hist = await pool
      .waitForHistory(cluster, 1, 240_000)
      .catch((e: Error) => assert.fail(`${e.message}\n${diag()}`));
    assert.equal(hist[0]!.ExitCode, 5, 'the job ran again after its pilot left and completed there');
    assert.ok(Number(hist[0]!.NumJobStarts) >= 2, `the job started twice (NumJobStarts ${hist[0]!.NumJobStarts})`);
    assert.ok(events('start').length >= before + 2, 'a new pilot was started for the job given back');
    assert.notEqual(String(hist[0]!.LastRemoteHost).split('@').pop(), host, 'the second run was on the new pilot');
    await pool.waitFor('the pool to shrink to zero again', () => slurm.jobs().length === 0, 120_000);
  });
});
