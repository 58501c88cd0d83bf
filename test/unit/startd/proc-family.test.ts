// Process families (proc-family.ts) on their own, for each way this host can track processes: a process
// born in its family is found with the children that left its process group (setsid), signals reach them
// all, kill() returns once none remains, and the forking process (the job spawner, spawner/spawner.c) is back
// in its own cgroup afterwards.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FAMILY_VAR, ProcFamily, ProcTracker } from '../../../daemons/startd/proc-family.js';
import { encodeRequest, SPAWNER_PATH, type SpawnerReply } from '../../../daemons/startd/spawner-protocol.js';

const isRoot = process.getuid?.() === 0;
let seq = 0;

/** Processes whose command line holds `mark`, zombies left out. */
function withMark(mark: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return (
          !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2)) &&
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(mark)
        );
      } catch {
        return false;
      }
    });
}

function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
}

async function until<T>(what: string, check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A v1 cgroup made by hand (the pids hierarchy is what a host without a freezer offers). */
function v1Family(kind: 'freezer' | 'pids'): ProcFamily | string {
  const mount = `/sys/fs/cgroup/${kind}`;
  try {
    if (
      !readFileSync('/proc/self/cgroup', 'utf8')
        .split('\n')
        .some((l) => l.split(':')[1]?.split(',').includes(kind))
    )
      return `no v1 ${kind} hierarchy`;
    const dir = join(mount, `dsched-unit-${process.pid}-${++seq}`);
    mkdirSync(dir);
    return new ProcFamily({ method: 'cgroup-v1', v1: kind, cgroup: dir, tag: `unit.${seq}` });
  } catch (e) {
    return (e as Error).message;
  }
}

const cases: Array<[string, () => ProcFamily | string]> = [
  ['cgroup-v2', () => tracked('cgroup-v2')],
  ['cgroup-v1 freezer', () => v1Family('freezer')],
  ['cgroup-v1 pids', () => v1Family('pids')],
  ['environ', () => tracked('environ')],
];
const trackers: ProcTracker[] = [];
function tracked(method: 'cgroup-v2' | 'environ'): ProcFamily | string {
  try {
    const t = ProcTracker.setup(method, 'dsched-unit', `unit_${process.pid}_${++seq}`);
    trackers.push(t);
    return t.create('job', process.getuid!());
  } catch (e) {
    return (e as Error).message;
  }
}

describe('proc family', () => {
  for (const [name, make] of cases) {
    const family = isRoot ? make() : 'needs root';
    const skip = typeof family === 'string' && `${name} is not available here: ${family}`;
    test(`proc family – ${name}: finds, stops and kills a job's processes, setsid ones too`, { skip }, async () => {
      const f = family as ProcFamily;
      const mark = String(800_000_000 + ((process.pid * 100 + ++seq) % 100_000_000));
      // born in its family by the job spawner, as the startd has it done
      const spawner = spawn(SPAWNER_PATH, [], { stdio: ['pipe', 'pipe', 'inherit'] });
      const replies = createInterface({ input: spawner.stdout! });
      const before = readFileSync(`/proc/${spawner.pid}/cgroup`, 'utf8');
      const sandbox = join('/tmp', `dsched-unit-family-${process.pid}-${seq}`);
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...f.env() };
      spawner.stdin!.write(
        encodeRequest({
          op: 'start',
          id: '1',
          exe: '/bin/sh',
          argv: ['-c', `setsid sleep ${mark} & exec sleep ${mark}`],
          cwd: '/',
          env,
          stdin: '/dev/null',
          stdout: '/dev/null',
          stderr: '/dev/null',
          sandbox,
          adText: '',
          family: f.ref,
        }),
      );
      const [line] = (await once(replies, 'line')) as [string];
      const started = JSON.parse(line) as SpawnerReply;
      assert.equal(started.event, 'started', line);
      // the forking process is the spawner, below its keeper (spawner.pid), in the same cgroups at first
      assert.equal(
        readFileSync(`/proc/${(started as { parent: number }).parent}/cgroup`, 'utf8'),
        before,
        'the forking process is back in its own cgroups',
      );
      f.pid = (started as { pid: number }).pid;
      const pids = await until('both sleeps', () => (withMark(mark).length === 2 ? withMark(mark) : undefined));
      assert.deepEqual(
        f
          .pids()
          .filter((p) => pids.includes(p))
          .sort(),
        [...pids].sort(),
        'the family holds both, the setsid one too',
      );
      assert.ok(!f.pids().includes(process.pid), 'the forking process is not in the family');
      assert.equal(f.signal('SIGSTOP'), 2);
      await until('both stopped', () => pids.every((p) => state(p) === 'T'));
      f.signal('SIGCONT');
      await until('both running again', () => pids.every((p) => state(p) !== 'T'));
      assert.deepEqual(await f.kill(), []);
      assert.deepEqual(withMark(mark), [], 'nothing of the family remains');
      spawner.stdin!.end();
      await once(spawner, 'close');
      await f.remove();
      if (f.ref.cgroup) assert.throws(() => readdirSync(f.ref.cgroup!), /ENOENT/);
    });
  }

  test(
    'proc family – the environment carries the tag, with the startd instance before the secret',
    { skip: !isRoot && 'needs root' },
    () => {
      const f = tracked('environ');
      assert.ok(typeof f !== 'string');
      const tag = f.env()[FAMILY_VAR]!;
      assert.match(tag, /^unit_\d+_\d+\.[A-Za-z0-9_-]{24}$/);
      assert.notEqual(
        (tracked('environ') as ProcFamily).env()[FAMILY_VAR]!.split('.')[1],
        tag.split('.')[1],
        'a secret per job',
      );
    },
  );

  test('proc family – a method the host lacks, or an unknown one, is an error that says why', () => {
    assert.throws(
      () => ProcTracker.setup('cgroup-v3', 'dsched-unit', 'x'),
      /STARTD_PROCESS_TRACKING = cgroup-v3: expected auto, cgroup-v2, cgroup-v1, environ/,
    );
  });

  test(
    'proc family – only recorded tags of this startd count as orphans',
    { skip: !isRoot && 'needs root' },
    async () => {
      const t = ProcTracker.setup('environ', 'dsched-unit', `unit_${process.pid}_orphans`);
      const mark = String(900_000_000 + (process.pid % 100_000_000));
      const forged = `unit_${process.pid}_orphans.forged`;
      const child = spawn('/bin/sh', ['-c', `exec sleep ${mark}`], {
        detached: true,
        stdio: 'ignore',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [FAMILY_VAR]: forged },
      });
      child.unref();
      try {
        await until('the sleep', () => withMark(mark).length === 1);
        assert.equal(await t.reapOrphans([{ tag: 'other_instance.forged', uid: 0 }]), 0, "another startd's tag");
        assert.equal(await t.reapOrphans([]), 0, 'an unrecorded tag is not ours');
        assert.equal(await t.reapOrphans([{ tag: forged, uid: 65534 }]), 0, 'a job of another uid');
        assert.equal(await t.reapOrphans([{ tag: forged }]), 0, 'a record that names no uid');
        assert.equal(withMark(mark).length, 1);
        assert.equal(await t.reapOrphans([{ tag: forged, uid: 0 }]), 1);
        assert.deepEqual(withMark(mark), []);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );

  test('proc family – cleanup', () => {
    for (const t of trackers) t.close();
    for (const m of ['/sys/fs/cgroup/unified/dsched-unit', '/sys/fs/cgroup/dsched-unit']) {
      try {
        rmdirSync(m);
      } catch {
        /* not there, or in use by another run */
      }
    }
  });
});
