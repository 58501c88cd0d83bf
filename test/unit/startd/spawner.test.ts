// The job spawner (spawner/spawner.c) driven directly, as the startd drives it: jobs run as their owner with
// their files and sandbox, a missing program is a hold with its errno, a stop reaches the job, every end is
// journaled in the format the startd reads back (spawner-journal.ts), and a job dies with its spawner.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { readSpawnerJournal, spawnerJournalFile } from '../../../daemons/startd/spawner-journal.js';
import {
  encodeRequest,
  SPAWNER_PATH,
  type SpawnerReply,
  type SpawnerRequest,
  type StartRequest,
} from '../../../daemons/startd/spawner-protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-spawner-'));
chmodSync(dir, 0o755);
let seq = 0;

class Spawner {
  readonly child: ChildProcess;
  private replies: SpawnerReply[] = [];
  private waiters: Array<() => void> = [];

  constructor() {
    this.child = spawn(SPAWNER_PATH, [dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.replies.push(JSON.parse(l) as SpawnerReply);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get journal() {
    return spawnerJournalFile(dir, this.child.pid!);
  }

  send(r: SpawnerRequest) {
    this.child.stdin!.write(encodeRequest(r));
  }

  /** The reply `event` for job `id` ('ended': exited or failed; 'first': whichever comes first). */
  async reply(id: string, event: SpawnerReply['event'] | 'ended' | 'first'): Promise<SpawnerReply> {
    for (;;) {
      const r = this.replies.find(
        (x) => x.id === id && (x.event === event || event === 'first' || (event === 'ended' && x.event !== 'started')),
      );
      if (r) return r;
      await new Promise<void>((w) => this.waiters.push(w));
    }
  }

  start(exe: string, argv: string[], more: Partial<StartRequest> = {}): StartRequest {
    const id = String(++seq);
    const r: StartRequest = {
      op: 'start',
      id,
      exe,
      argv,
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      stdin: '/dev/null',
      stdout: '/dev/null',
      stderr: '/dev/null',
      sandbox: join(dir, `sandbox${id}`),
      adText: 'ClusterId = 1\n',
      ...more,
    };
    this.send(r);
    return r;
  }

  async stop() {
    this.child.stdin!.end();
    if (this.child.exitCode === null && this.child.signalCode === null) await once(this.child, 'close');
  }
}

const note = (proc: number) => ({ addr: 'localhost:1', claim: 'c', cluster: 1, proc });
/** The parent of a process (the spawner, for a job). */
const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('spawner', { timeout: 60_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('spawner – a job runs as its owner, with its files, its sandbox files private to the owner', async () => {
    const s = new Spawner();
    const home = join(dir, 'home');
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const out = join(home, 'owner.out');
    const r = s.start('/bin/sh', ['-c', 'id -u; id -g; pwd; cat; cat "$_CONDOR_JOB_AD"'], {
      cwd: home,
      uid: 65534,
      gid: 65534,
      groups: [65534],
      stdin: '/etc/hostname',
      stdout: out,
      stderr: out,
      env: { PATH: '/usr/bin:/bin', _CONDOR_JOB_AD: join(dir, 'sandbox1/.job.ad') },
      files: { '.chirp.config': 'x' },
      execFiles: { '.pbs_script': '#!/bin/sh\n' },
      keepSandbox: true,
    });
    const started = await s.reply(r.id, 'first');
    assert.ok(started.event !== 'failed', JSON.stringify(started));
    assert.ok(
      started.event === 'started' && started.files?.stdout && started.files.stdout === started.files.stderr,
      'the output file is named by dev:ino',
    );
    const end = await s.reply(r.id, 'ended');
    assert.deepEqual(end, { id: r.id, event: 'exited', exitCode: 0, stopped: false });
    assert.equal(
      readFileSync(out, 'utf8'),
      `65534\n65534\n${home}\n${readFileSync('/etc/hostname', 'utf8')}ClusterId = 1\n`,
    );
    assert.equal(statSync(out).uid, 65534, "the output file is the owner's");
    assert.equal(statSync(r.sandbox).uid, 65534);
    assert.equal(statSync(r.sandbox).mode & 0o777, 0o700);
    assert.equal(statSync(join(r.sandbox, '.chirp.config')).mode & 0o777, 0o600);
    assert.equal(statSync(join(r.sandbox, '.pbs_script')).mode & 0o777, 0o700);
    assert.equal(statSync(join(r.sandbox, '.pbs_script')).uid, 65534);
    await s.stop();
  });

  test('spawner – a missing program, input or initial directory is a hold with the errno, and the sandbox goes', async () => {
    const s = new Spawner();
    const missing = s.start(join(dir, 'no-such-program'), []);
    assert.deepEqual(await s.reply(missing.id, 'ended'), {
      id: missing.id,
      event: 'failed',
      holdCode: 6,
      holdSubCode: 2,
      message: `Failed to execute '${join(dir, 'no-such-program')}': No such file or directory (errno 2)`,
    });
    assert.ok(!existsSync(missing.sandbox));
    const input = s.start('/bin/cat', [], { stdin: join(dir, 'gone.in') });
    assert.deepEqual(await s.reply(input.id, 'ended'), {
      id: input.id,
      event: 'failed',
      holdCode: 8,
      holdSubCode: 2,
      message: `Failed to open '${join(dir, 'gone.in')}' as standard input: No such file or directory (errno 2)`,
    });
    const cwd = s.start('/bin/true', [], { cwd: '/root', uid: 65534, gid: 65534 });
    const r = await s.reply(cwd.id, 'ended');
    assert.ok(r.event === 'failed' && r.holdCode === 14 && r.holdSubCode === 13, JSON.stringify(r));
    const nul = s.start('/bin/echo', ['a\0b']);
    assert.equal(((await s.reply(nul.id, 'ended')) as { holdCode?: number }).holdCode, 6);
    // a journaled job that never ran: its start line is void (its keeper must not take it for a job)
    const never = s.start(join(dir, 'no-such-program'), [], { journal: { run: 'never', note: note(0) } });
    assert.equal(((await s.reply(never.id, 'ended')) as { holdCode?: number }).holdCode, 6);
    assert.match(readFileSync(s.journal, 'utf8'), /^\{"pid":\d+,"run":"never",.*\n\{"done":"never"\}\n$/);
    assert.deepEqual(readSpawnerJournal(s.journal), []);
    await s.stop();
    rmSync(s.journal, { force: true });
  });

  test('spawner – a FIFO named as input or output never blocks the spawner (nor every other job of the host)', async () => {
    const s = new Spawner();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const input = s.start('/bin/cat', [], { stdin: fifo });
    assert.deepEqual(
      await s.reply(input.id, 'ended'),
      { id: input.id, event: 'exited', exitCode: 0, stopped: false },
      'no writer: the job reads its end',
    );
    const output = s.start('/bin/true', [], { stdout: fifo });
    const r = await s.reply(output.id, 'ended');
    assert.ok(r.event === 'failed' && r.holdCode === 7 && r.holdSubCode === 6, JSON.stringify(r)); // ENXIO: no reader
    await s.stop();
  });

  test('spawner – every end is journaled before it is reported, and marked done once the startd has it', async () => {
    const s = new Spawner();
    const a = s.start('/bin/sh', ['-c', 'exit 3'], { journal: { run: 'r1', note: note(0) } });
    const b = s.start('/bin/sleep', ['100'], { journal: { run: 'r"2', note: note(1) } });
    await s.reply(a.id, 'ended');
    await s.reply(b.id, 'started');
    s.send({ op: 'signal', id: b.id, signal: 'SIGTERM' });
    assert.deepEqual(await s.reply(b.id, 'ended'), {
      id: b.id,
      event: 'exited',
      exitCode: 0,
      signal: 15,
      stopped: true,
    });
    const ends = readSpawnerJournal(s.journal).sort((x, y) => x.note.proc - y.note.proc);
    assert.deepEqual(
      ends.map(({ time: _, ...e }) => e),
      [
        { run: 'r1', note: note(0), exitCode: 3 },
        { run: 'r"2', note: note(1), exitCode: 0, signal: 15, stopped: true },
      ],
    );
    s.send({ op: 'journaled', runs: ['r1'] });
    const c = s.start('/bin/true', []); // a request after the mark: once it is answered, the mark is made
    await s.reply(c.id, 'ended');
    assert.deepEqual(
      readSpawnerJournal(s.journal).map((e) => e.run),
      ['r"2'],
    );
    // a line cut short by a crash is skipped, the ends before it kept
    appendFileSync(s.journal, JSON.stringify(ends[0]).slice(0, 20));
    assert.deepEqual(
      readSpawnerJournal(s.journal).map((e) => e.run),
      ['r"2'],
    );
    s.send({ op: 'journaled', runs: ['r"2'] });
    const d = s.start('/bin/true', []);
    await s.reply(d.id, 'ended');
    assert.equal(readFileSync(s.journal, 'utf8'), '', 'the journal is emptied once nothing is owed');
    await s.stop();
    rmSync(s.journal);
  });

  test('spawner – a job dies with its spawner (SIGKILL): nothing of it ends unobserved', async () => {
    const s = new Spawner();
    const r = s.start('/bin/sleep', ['100'], { journal: { run: 'k1', note: note(0) } });
    const started = (await s.reply(r.id, 'started')) as { pid: number; parent: number };
    assert.ok(alive(started.pid));
    assert.notEqual(started.parent, s.child.pid, 'the spawner runs below its keeper');
    process.kill(started.parent, 'SIGKILL');
    // the keeper goes once it has reaped what its spawner left
    await once(s.child, 'close');
    assert.ok(!alive(started.pid), `job ${started.pid} outlived its spawner`);
    assert.deepEqual(readSpawnerJournal(s.journal), [], 'a job killed with its spawner did not end by itself');
    rmSync(s.journal, { force: true });
  });

  test('spawner – a job that ended unreaped when its spawner is killed (SIGKILL) has its end journaled by the keeper', async () => {
    const s = new Spawner();
    const go = join(dir, 'unreaped.go');
    const wait = `i=0; while [ ! -e ${go} ] && [ $i -lt 2000 ]; do sleep 0.05; i=$((i+1)); done`;
    const ended = s.start('/bin/sh', ['-c', `${wait}; exit 3`], { journal: { run: 'u1', note: note(0) } });
    // asked to stop, it goes on until told: its end may be an eviction's, and is journaled as stopped
    const term = join(dir, 'unreaped.term');
    const stopped = s.start('/bin/sh', ['-c', `trap 'touch ${term}' TERM; ${wait}; exit 0`], {
      journal: { run: 'u2', note: note(1) },
    });
    const running = s.start('/bin/sleep', ['100'], { journal: { run: 'u3', note: note(2) } });
    const pids = [] as number[];
    for (const r of [ended, stopped, running]) pids.push(((await s.reply(r.id, 'started')) as { pid: number }).pid);
    const spawner = parentOf(pids[0]!);
    s.send({ op: 'signal', id: stopped.id, signal: 'SIGTERM' });
    const until = Date.now() + 20_000;
    while (!existsSync(term) && Date.now() < until) await new Promise((w) => setTimeout(w, 20));
    assert.ok(existsSync(term), 'the stop reached the job');
    // the spawner frozen, as a loaded one is slow to reap: two jobs end, and it is killed before it reaps them
    process.kill(spawner, 'SIGSTOP');
    try {
      appendFileSync(go, '');
      const zombie = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      while (!(zombie(pids[0]!) && zombie(pids[1]!)) && Date.now() < until) await new Promise((w) => setTimeout(w, 20));
      assert.ok(zombie(pids[0]!) && zombie(pids[1]!), 'both jobs ended, unreaped');
      process.kill(spawner, 'SIGKILL');
    } finally {
      try {
        process.kill(spawner, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await once(s.child, 'close');
    assert.ok(!alive(pids[2]!), 'the running job died with its spawner');
    assert.deepEqual(
      readSpawnerJournal(s.journal)
        .map(({ time: _, ...e }) => e)
        .sort((x, y) => x.note.proc - y.note.proc),
      [
        { run: 'u1', note: note(0), exitCode: 3 },
        { run: 'u2', note: note(1), exitCode: 0, stopped: true },
      ],
      'the two ends, and not the job killed with its spawner',
    );
    rmSync(s.journal, { force: true });
  });

  test(
    'spawner – an end with the watched folder’s file system full is reported and journaled as full; a job that wrote nothing there is not',
    { skip: process.getuid?.() !== 0 && 'needs root to mount a small file system' },
    async () => {
      const small = join(dir, 'small');
      mkdirSync(small);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
      const s = new Spawner();
      try {
        // the folder watched is not the job's sandbox, as for a container job's podman (its control folder)
        const filled = s.start('/bin/sh', ['-c', `head -c 2000000 /dev/zero > ${small}/fill; exit 0`], {
          watch: small,
          journal: { run: 'f1', note: note(0) },
        });
        assert.deepEqual(await s.reply(filled.id, 'ended'), {
          id: filled.id,
          event: 'exited',
          exitCode: 0,
          sandboxFull: true,
          stopped: false,
        });
        // a startd that dies before it hears of the end finds it in the journal, full
        assert.deepEqual(
          readSpawnerJournal(s.journal).map(({ time: _, ...e }) => e),
          [{ run: 'f1', note: note(0), exitCode: 0, sandboxFull: true }],
        );
        const idle = s.start('/bin/true', [], { watch: small, journal: { run: 'f2', note: note(1) } });
        assert.deepEqual(await s.reply(idle.id, 'ended'), {
          id: idle.id,
          event: 'exited',
          exitCode: 0,
          stopped: false,
        });
      } finally {
        await s.stop();
        rmSync(s.journal, { force: true });
        execFileSync('umount', [small]);
      }
    },
  );

  test('spawner – its keeper killed, the spawner journals what ended, kills and reaps its jobs, and goes', async () => {
    const s = new Spawner();
    const done = s.start('/bin/sh', ['-c', 'exit 4'], { journal: { run: 'k1', note: note(0) } });
    const running = s.start('/bin/sleep', ['100'], { journal: { run: 'k2', note: note(1) } });
    await s.reply(done.id, 'ended');
    const pid = ((await s.reply(running.id, 'started')) as { pid: number }).pid;
    s.child.kill('SIGKILL');
    // its output closes once the spawner is gone too
    await once(s.child, 'close');
    assert.ok(!alive(pid), 'the running job went with its spawner');
    assert.deepEqual(
      readSpawnerJournal(s.journal).map(({ time: _, ...e }) => e),
      [{ run: 'k1', note: note(0), exitCode: 4 }],
    );
    rmSync(s.journal, { force: true });
  });

  test('spawner – the journal reader: an adopted process is the job last started with its pid, unless that end is known or the job never ran', () => {
    const file = join(dir, 'reader.exits');
    const start = (pid: number, run: string, proc: number) => JSON.stringify({ pid, run, note: note(proc) });
    writeFileSync(
      file,
      [
        start(10, 'a', 0), // ended, journaled by the spawner; its pid used again by b
        JSON.stringify({ run: 'a', note: note(0), exitCode: 0, time: 1 }),
        start(10, 'b', 1),
        start(11, 'c', 2), // never ran (its exec failed)
        JSON.stringify({ done: 'c' }),
        start(12, 'd', 3), // running, killed with its spawner
        start(13, 'e', 4), // asked to stop, then ended by itself
        JSON.stringify({ stop: 'e' }),
        JSON.stringify({ adopted: 10, exitCode: 7, time: 2 }),
        JSON.stringify({ adopted: 11, exitCode: 127, time: 2 }),
        JSON.stringify({ adopted: 12, exitCode: 0, signal: 9, time: 2 }),
        JSON.stringify({ adopted: 13, exitCode: 0, signal: 15, time: 2 }),
        JSON.stringify({ adopted: 10, exitCode: 1, time: 3 }), // what b left behind, with b's number
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      readSpawnerJournal(file).sort((x, y) => x.note.proc - y.note.proc),
      [
        { run: 'a', note: note(0), exitCode: 0, time: 1 },
        { run: 'b', note: note(1), exitCode: 7, time: 2 },
        { run: 'e', note: note(4), exitCode: 0, signal: 15, stopped: true, time: 2 },
      ],
    );
    rmSync(file);
  });

  test("spawner – a process group signal (Slurm's SIGTERM to a pilot, a terminal's ^C) leaves the spawner and its jobs to the startd", async () => {
    const s = new Spawner();
    const r = s.start('/bin/sleep', ['100']);
    const pid = ((await s.reply(r.id, 'started')) as { pid: number }).pid;
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) s.child.kill(sig);
    // still answering after the signals: a job started now runs and its end is told
    const t = s.start('/bin/sh', ['-c', 'exit 5']);
    assert.deepEqual(await s.reply(t.id, 'ended'), { id: t.id, event: 'exited', exitCode: 5, stopped: false });
    assert.ok(alive(pid), 'the running job was left alone');
    // and the job itself still takes SIGTERM as the signal that stops it
    s.send({ op: 'signal', id: r.id, signal: 'SIGTERM' });
    assert.deepEqual(await s.reply(r.id, 'ended'), {
      id: r.id,
      event: 'exited',
      exitCode: 0,
      signal: 15,
      stopped: true,
    });
    await s.stop();
    rmSync(s.journal, { force: true });
  });
});
