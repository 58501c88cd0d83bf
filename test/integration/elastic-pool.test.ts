// The elastic pool on network-namespace hosts: a pool with no execute host runs a queue by provisioning two
// (the provisioner's netns provider plugs new namespaces into the test pool's bridge; each joins with its
// one-time join token), then shrinks back to zero once they stay idle (drained, stopped, certificate
// revoked). Every job completes once, with its exit code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetnsPool, netnsUnavailable, SUBNET } from './harness/netns.js';

const unavailable = netnsUnavailable();
if (unavailable) console.log(`# elastic pool (netns) tests skipped: ${unavailable}`);
const skip = unavailable ? `cannot make network namespaces: ${unavailable}` : false;

/** Names of the namespaces (and hosts) this run's provisioner makes. */
const PREFIX = `dsel${process.pid}x`;
const namespaces = () =>
  (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '')
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(PREFIX));

/** Remove what a failed run left (the hosts outlive the provisioner by design). */
function sweep() {
  for (const ns of namespaces()) {
    const pids = (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '')
      .split(/\s+/)
      .filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

describe('elastic pool – netns provider', { skip }, () => {
  let pool: NetnsPool;
  before(async () => {
    pool = await NetnsPool.start({ execHosts: 0 });
    const c = pool.central;
    const cfg = {
      PROVISIONER_PROVIDER: 'netns',
      PROVISIONER_NETNS_SWITCH: pool.switchNs,
      PROVISIONER_NETNS_SUBNET: SUBNET,
      PROVISIONER_NETNS_FIRST: '100',
      PROVISIONER_NETNS_PREFIX: PREFIX,
      PROVISIONER_MIN_HOSTS: '0',
      PROVISIONER_MAX_HOSTS: '2',
      PROVISIONER_IDLE_TIMEOUT: '4',
      PROVISIONER_INTERVAL: '1',
      PROVISIONER_START_TIMEOUT: '120',
      PROVISIONER_HOST_CONFIG:
        'NUM_CPUS = 1; MEMORY = 1024; UPDATE_INTERVAL = 2; JOB_LEASE_DURATION = 10; KILL_GRACE = 2',
    };
    appendFileSync(
      join(c.home, 'config'),
      Object.entries(cfg)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') + '\n',
    );
    c.daemons.push('provisioner');
    await pool.startDaemon(c, 'provisioner');
  });
  after(async () => {
    const leaks = (await pool?.stop()) ?? [];
    sweep();
    assert.deepEqual(leaks, [], 'every daemon stops on SIGTERM and leaves nothing running');
  });

  const events = (kind: string) => pool.logRecords('central', 'provisioner').filter((r) => r.event === kind);

  test('elastic pool – a pool with no execute host provisions two, runs the queue, then shrinks to zero', async () => {
    assert.deepEqual(await pool.json('dstatus', []), [], 'the pool starts with no execute host');
    // four one-cpu jobs, each exiting with its proc number; one cpu per host, at most two hosts
    const cluster = await pool.submit(
      'four.sub',
      `executable = /bin/sh\ntransfer_executable = false\narguments = "-c 'sleep 2; exit $(Process)'"\ninitialdir = /\noutput = /dev/null\nerror = /dev/null\nqueue 4\n`,
    );
    const hist = await pool.waitForHistory(cluster, 4, 180_000);
    const starts = events('start');
    assert.equal(starts.length, 2, `two hosts started, no more (PROVISIONER_MAX_HOSTS): ${JSON.stringify(starts)}`);
    const provisioned = new Set(starts.map((s) => String(s.host)));
    assert.deepEqual(
      hist.map((j) => [j.ProcId, j.ExitCode]).sort(),
      [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      'every job completed once, with its own exit code',
    );
    for (const j of hist)
      assert.ok(
        provisioned.has(
          String(j.LastRemoteHost ?? j.RemoteHost)
            .split('@')
            .pop()!,
        ),
        `job ${j.ProcId} ran on a provisioned host (${j.LastRemoteHost})`,
      );
    assert.deepEqual(await pool.json('dq', []), [], 'nothing left in the queue');

    // idle past PROVISIONER_IDLE_TIMEOUT: drained, stopped, revoked
    await pool.waitFor('both provisioned hosts retired', () => events('retire').length === 2, 120_000);
    assert.equal(events('drain').length, 2, 'each host was drained before it was stopped');
    await pool.waitFor('no slot left in dstatus', async () => (await pool.json('dstatus', [])).length === 0, 60_000);
    assert.deepEqual(namespaces(), [], "the hosts' namespaces are gone");
    // a retire line is logged as the host is stopped; its certificate is revoked, and the provisioner's state
    // saved, after it in the same pass
    const state = () =>
      JSON.parse(readFileSync(join(pool.central.home, 'spool', 'provisioner.json'), 'utf8')) as { hosts: unknown[] };
    await pool.waitFor('the pass that retired the hosts to be saved', () => state().hosts.length === 0);
    const revoked = JSON.parse(readFileSync(join(pool.central.home, 'spool', 'revoked.json'), 'utf8')) as {
      hosts: Array<{ host: string }>;
    };
    assert.deepEqual(
      new Set(revoked.hosts.map((h) => h.host)),
      provisioned,
      "the retired hosts' certificates are revoked",
    );
    assert.ok(
      !existsSync(join(pool.central.home, 'spool', 'provisioned', [...provisioned][0]!)),
      "a retired host's home is removed",
    );
    assert.equal(events('start').length, 2, 'no host started after the queue emptied');
  });
});
