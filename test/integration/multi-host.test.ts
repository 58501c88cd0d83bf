// A pool of several hosts, for real: collector, negotiator and schedd on "central", a startd on each of
// "exec1" and "exec2", every host in its own network namespace with its own DSCHED_HOME (harness/netns.ts).
// Each host has its own FileSystemDomain, so jobs run with file transfer (should_transfer_files defaults
// to IF_NEEDED): the executable and inputs travel to the execute host's sandbox over gRPC, output comes back
// into the submit directory on central. Execute hosts join with a one-time join token and talk TLS with
// their own certificates.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { sleep } from './harness/pool.js';
import { NETNS_TEST_BACKSTOP_MS, NetnsPool, netnsUnavailable } from './harness/netns.js';

const LEASE = 10; // JOB_LEASE_DURATION on every host (the harness's setting)

const unavailable = netnsUnavailable();
if (unavailable) console.log(`# multi-host pool tests skipped: ${unavailable}`);
const skip = unavailable ? `cannot make network namespaces: ${unavailable}` : false;

/**
 * A job that needs no file from the submit host and runs until `gate` exists (every host shares this machine's
 * file system): the test ends it when it has done to its run what it meant to, however slow the machine.
 */
const gatedJob = (gate: string) =>
  `executable = /bin/sh\narguments = "-c 'while [ ! -e ${gate} ]; do sleep 0.2; done'"\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nqueue\n`;

/** The execute host a slot name belongs to (slot1_3@exec2 → exec2). */
const hostOf = (slot: unknown) => String(slot).split('@')[1] ?? '';

describe('multi-host pool', () => {
  let pool: NetnsPool | undefined;
  beforeEach(async () => {
    // one cpu per execute host: two jobs at once must use both hosts
    pool = await NetnsPool.start({ execConfig: { NUM_CPUS: '1', MEMORY: '1024' } });
  });
  afterEach(async () => {
    const leaks = (await pool?.stop()) ?? [];
    pool = undefined;
    assert.deepEqual(leaks, [], 'every daemon stops on SIGTERM and leaves nothing running');
  });

  /** The job's ad while it runs (JobStatus 2 and a RemoteHost). */
  async function runningAd(cluster: number): Promise<Record<string, unknown>> {
    return pool!.waitFor(`job ${cluster}.0 to run`, async () => {
      const [ad] = await pool!.json('dq', [String(cluster)]);
      return ad?.JobStatus === 2 && typeof ad.RemoteHost === 'string' ? ad : undefined;
    });
  }

  /** For a few seconds the job stays finished exactly once: one history entry, nothing in the queue. */
  async function staysFinishedOnce(cluster: number) {
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      assert.equal((await pool!.json('dhistory', [String(cluster)])).length, 1, 'one completion in dhistory');
      assert.deepEqual(await pool!.json('dq', [String(cluster)]), [], 'the job left the queue');
    }
  }

  test(
    'multi-host pool – jobs run on both execute hosts, each slot advertising its own host address',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      const slots = await pool!.json('dstatus', []);
      for (const h of pool!.execs) {
        // each execute host joined with a token: its own certificate (CN = its name, roles startd and master),
        // its own key, and no pool CA key or token key of its own
        const cert = new X509Certificate(readFileSync(join(h.home, 'host', 'host.crt')));
        assert.equal(cert.subject, `CN=${h.name}`);
        assert.equal(cert.subjectAltName, `DNS:${h.name}, URI:dsched:role:startd, URI:dsched:role:master`);
        assert.ok(cert.checkIssued(new X509Certificate(readFileSync(join(pool!.central.home, 'ca', 'ca.crt')))));
        assert.equal(existsSync(join(h.home, 'ca')), false);
        assert.equal(statSync(join(h.home, 'host', 'host.key')).mode & 0o777, 0o600);
        const slot = slots.find((a) => a.Name === `slot1@${h.name}`);
        assert.ok(slot, `dstatus lists slot1@${h.name}`);
        assert.match(
          String(slot.MyAddress),
          new RegExp(`^${h.address.replaceAll('.', '\\.')}:\\d+$`),
          `slot1@${h.name} is reached at its own host`,
        );
      }
      writeFileSync(join(pool!.work, 'in.txt'), 'from central\n');
      writeFileSync(
        join(pool!.work, 'job.sh'),
        '#!/bin/sh\necho "ran in $PWD"\ncat in.txt\necho "result $1" > "result.$1.txt"\nsleep 2\n',
        { mode: 0o755 },
      );
      const cluster = await pool!.submit(
        'both.sub',
        'executable = job.sh\narguments = $(Process)\ntransfer_input_files = in.txt\noutput = out.$(Process).txt\nerror = err.$(Process).txt\nqueue 4\n',
      );
      const hist = await pool!.waitForHistory(cluster, 4);
      for (const ad of hist) {
        assert.equal(ad.JobStatus, 4, `job ${ad.ClusterId}.${ad.ProcId} completed`);
        assert.equal(ad.ExitCode, 0);
        assert.match(String(ad.LastRemoteHost), /^slot1_\d+@exec[12]$/);
      }
      assert.deepEqual([...new Set(hist.map((a) => hostOf(a.LastRemoteHost)))].sort(), ['exec1', 'exec2']);
      for (const ad of hist) {
        const p = Number(ad.ProcId);
        const out = readFileSync(join(pool!.work, `out.${p}.txt`), 'utf8');
        // the job ran in a sandbox under its execute host's own home, with the input sent there
        assert.match(out, new RegExp(`^ran in .*/${hostOf(ad.LastRemoteHost)}/.*execute/dir_`, 'm'), out);
        assert.match(out, /^from central$/m);
        assert.equal(readFileSync(join(pool!.work, `result.${p}.txt`), 'utf8'), `result ${p}\n`);
        assert.equal(ad.ShouldTransferFiles, 'IF_NEEDED');
      }
    },
  );

  test(
    'multi-host pool – a startd killed with -9 mid-job: the job runs again on the other host, one completion',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      const gate = join(pool!.work, 'crash.go');
      const cluster = await pool!.submit('crash.sub', gatedJob(gate));
      const first = hostOf((await runningAd(cluster)).RemoteHost);
      const other = pool!.execs.map((h) => h.name).find((n) => n !== first)!;
      await pool!.kill9(first, 'startd'); // and its job spawner: nobody on `first` will report the job
      writeFileSync(gate, '');
      const [ad] = await pool!.waitForHistory(cluster, 1);
      assert.equal(ad!.JobStatus, 4);
      assert.equal(ad!.ExitCode, 0);
      assert.equal(ad!.NumJobStarts, 2, 'the job started once on each host');
      assert.equal(hostOf(ad!.LastRemoteHost), other, `the job finished on ${other}`);
      await staysFinishedOnce(cluster);
    },
  );

  test(
    'multi-host pool – a startd cut off for longer than the lease: the job ends exactly once',
    { skip, timeout: NETNS_TEST_BACKSTOP_MS },
    async () => {
      const gate = join(pool!.work, 'cut.go');
      const cluster = await pool!.submit('cut.sub', gatedJob(gate));
      const cut = hostOf((await runningAd(cluster)).RemoteHost);
      pool!.cutNetwork(cut);
      const cutAt = Date.now();
      // Nothing can reach `cut` now: its own log says when its lease ran out and it stopped the job.
      await pool!.waitFor(`the claim lease to expire on ${cut}`, () =>
        pool!.logRecords(cut, 'startd').some((r) => r.msg === 'claim lease expired'),
      );
      await pool!.waitFor(`the run on ${cut} to end`, () =>
        pool!.logRecords(cut, 'startd').some((r) => r.msg === 'job ended' && r.cluster === cluster),
      );
      // its run is over: the next run may end
      writeFileSync(gate, '');
      await sleep(Math.max(0, cutAt + (LEASE + 2) * 1000 - Date.now()));
      pool!.restoreNetwork(cut);
      const [ad] = await pool!.waitForHistory(cluster, 1, 90_000);
      assert.equal(ad!.JobStatus, 4);
      assert.equal(ad!.ExitCode, 0);
      assert.equal(ad!.NumJobStarts, 2, 'stopped by the lease on the cut-off host, then run again');
      await staysFinishedOnce(cluster);
      // Every startd's own account: the job ran to its end exactly once, and the cut-off run was evicted.
      const ended = pool!.execs.flatMap((h) =>
        pool!
          .logRecords(h.name, 'startd')
          .filter((r) => r.msg === 'job ended' && r.cluster === cluster)
          .map((r) => ({ host: h.name, outcome: r.outcome })),
      );
      assert.equal(ended.filter((e) => e.outcome === 'exited').length, 1, `one run exited: ${JSON.stringify(ended)}`);
      assert.ok(
        ended.some((e) => e.host === cut && e.outcome === 'evicted'),
        `the run on ${cut} was evicted: ${JSON.stringify(ended)}`,
      );
    },
  );
});
