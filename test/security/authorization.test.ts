// Authorization against a root pool, from a local user (uid 65534): a hostile gRPC client with the user token
// any user can get tries every call reserved for daemons and admins, and the admin commands are run as that
// user. Each is refused with PERMISSION_DENIED, the pool's ads, drains, priorities and jobs are untouched,
// and the pool keeps running jobs.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestPool, alive, type RunOptions } from '../integration/harness/pool.js';

const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };
const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

function runHostile(pool: TestPool, targets: object): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
        join(ROOT, 'test', 'security', 'fixtures', 'hostile-client.mjs'),
        ROOT,
        JSON.stringify(targets),
      ],
      {
        cwd: pool.work,
        env: { ...pool.env, ...NOBODY.env },
        uid: NOBODY.uid,
        gid: NOBODY.gid,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`the hostile client failed (${code}): ${err}${out}`));
      else resolve(JSON.parse(out) as Record<string, string>);
    });
  });
}

describe('security – a user cannot make daemon or admin calls', { skip: needsRoot }, () => {
  let pool: TestPool;
  let sleeper: number;
  before(async () => {
    pool = await TestPool.start({ NUM_CPUS: '2' });
  });
  after(async () => {
    await pool?.stop();
  });

  /** The job that runs all along: no attack may vacate it. */
  async function running() {
    return pool.waitFor(`job ${sleeper} to run`, async () => {
      const [a] = await pool.json('dq', [String(sleeper)]);
      return a?.JobStatus === 2 && a.RemoteHost ? a : undefined;
    });
  }

  async function runsAJob(tag: string) {
    pool.file(`${tag}.sub`, `executable = /bin/echo\narguments = ${tag}\noutput = ${tag}.out\nqueue\n`);
    const c = await pool.submit(`${tag}.sub`);
    await pool.waitForHistory(c, 1);
    assert.equal(pool.read(`${tag}.out`), `${tag}\n`);
  }

  test('security – every daemon and admin RPC refuses a user token with PERMISSION_DENIED, and nothing changes', async () => {
    pool.file('sleep.sub', 'executable = /bin/sleep\narguments = 600\nqueue\n');
    sleeper = await pool.submit('sleep.sub');
    const job = await running();
    const pslot = (await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!;
    const slot = String(pslot.Name);
    const host = slot.slice(slot.lastIndexOf('@') + 1);
    const prios = await pool.json('duserprio', ['-allusers']);
    const victim = prios[0]!;
    // the job's slot ad reaches the collector on the startd's path, maybe after the schedd shows the job running
    const adsBefore = await pool.waitFor("the running job's slot in the collector", async () => {
      const names = (await pool.json('dstatus', [])).map((a) => String(a.Name)).sort();
      return names.includes(String(job.RemoteHost)) && names;
    });
    const masterPid = pool.daemonPid('master');

    const result = await runHostile(pool, {
      collector: pool.daemonAddress('collector'),
      schedd: pool.daemonAddress('schedd'),
      master: pool.daemonAddress('master'),
      negotiator: pool.daemonAddress('negotiator'),
      startd: pool.daemonAddress('startd'),
      host,
      slot,
      dslot: String(job.RemoteHost),
      job: { cluster: sleeper, proc: 0 },
      victimSubmitter: String(victim.name),
    });
    const expected = Object.fromEntries(Object.keys(result).map((k) => [k, 'PERMISSION_DENIED']));
    assert.deepEqual(result, expected);
    assert.equal(Object.keys(result).length, 12, 'every attack was tried');

    // nothing was touched: the ads, the drain state, the priorities, the running job, the master
    assert.deepEqual((await pool.json('dstatus', [])).map((a) => String(a.Name)).sort(), adsBefore);
    const after = (await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!;
    assert.notEqual(after.State, 'Drained');
    assert.equal(
      ((await pool.json('duserprio', ['-allusers'])).find((s) => s.name === victim.name) ?? {}).priority_factor,
      victim.priority_factor,
    );
    const still = await running();
    assert.equal(still.RemoteHost, job.RemoteHost, 'the job was not vacated');
    assert.equal(still.NumJobStarts, job.NumJobStarts);
    assert.ok(alive(masterPid) && pool.daemonPid('master') === masterPid, 'the master was not shut down');
    await runsAJob('after-rpc');
  });

  test('security – the admin commands, run by a user who is not an admin, say PERMISSION_DENIED and who may', async () => {
    const slot = String((await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!.Name);
    const masterPid = pool.daemonPid('master');
    const cases: Array<[string, string[], RegExp]> = [
      ['dsched', ['stop'], /only a pool admin may stop the pool/],
      ['dsched', ['reconfig'], /only a pool admin may reconfigure the pool/],
      ['dsched', ['drain', slot.slice(slot.lastIndexOf('@') + 1)], /only a pool admin may drain a machine/],
      ['duserprio', ['-setfactor', 'nobody', '1'], /only a pool admin may set priority factors/],
    ];
    for (const [cmd, args, message] of cases) {
      const r = await pool.run(cmd, args, NOBODY);
      const what = `${cmd} ${args.join(' ')}: ${r.stderr}`;
      assert.equal(r.code, 1, what);
      assert.match(r.stderr, /error\[PERMISSION_DENIED\]: /, what);
      assert.match(r.stderr, message, what);
      assert.match(r.stderr, /hint: ask the pool's owner, root or a user listed in QUEUE_SUPER_USERS/, what);
      assert.doesNotMatch(r.stderr, /secret|EACCES|internal error/i, what);
    }
    assert.ok(alive(masterPid) && pool.daemonPid('master') === masterPid, 'the pool still runs');
    assert.notEqual((await pool.json('dstatus', ['-constraint', 'SlotType == "Partitionable"']))[0]!.State, 'Drained');
    await runsAJob('after-cli');
    // the pool's owner still can
    const r = await pool.run('dsched', ['reconfig']);
    assert.equal(r.code, 0, r.stderr);
    await pool.run('drm', [String(sleeper)]);
  });
});
