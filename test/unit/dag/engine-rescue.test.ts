// dagman – rescue DAGs: written in DAGMan's partial format when a DAG fails, found and applied when the DAG is
// submitted again (finished nodes do not run again), numbered 001, 002, …; -force starts over.
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  findRescueDags,
  loadDagForRun,
  newestRescueDag,
  parseDagString,
  readRescueDagFile,
  rescueDagName,
} from '../../../grammar/dag/index.js';
import { fsFileWriter } from '../../../daemons/schedd/dagman/outputs.js';
import { DagEngine, loadDagForResume } from '../../../daemons/schedd/dagman/engine.js';
import { FakeHost, runDag, submitOrder, type JobBehavior } from './fake-host.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dsched-rescue-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const DAG =
  'JOB A a.sub\nJOB B b.sub\nJOB C c.sub\nJOB D d.sub\nJOB X x.sub\nPARENT A CHILD B C\nPARENT B C CHILD D\nRETRY C 1\nFINAL F f.sub\n';

async function submit(
  job: JobBehavior,
  opts: { force?: boolean } = {},
): Promise<{ host: FakeHost; rescueFile?: string; exitCode: number; used?: string }> {
  const dag = loadDagForRun('diamond.dag', { cwd: dir, ...opts });
  const host = new FakeHost(job);
  host.files = fsFileWriter;
  const { engine } = await runDag(dag, host);
  const r = await engine.result;
  const out: { host: FakeHost; rescueFile?: string; exitCode: number; used?: string } = { host, exitCode: r.exitCode };
  if (r.rescueFile) out.rescueFile = r.rescueFile;
  if (dag.rescueFile) out.used = dag.rescueFile;
  return out;
}

describe('dagman rescue DAGs', () => {
  test('dagman rescue – a failed DAG writes rescue001; resubmitting resumes from it, then rescue002; -force starts over', async () => {
    writeFileSync(join(dir, 'diamond.dag'), DAG);
    // 1st run: C fails twice (RETRY 1): D cannot run; A, B, X and the FINAL node do
    const first = await submit((n) => (n.name === 'C' ? 1 : n.name === 'F' ? 1 : 0));
    assert.equal(first.exitCode, 1);
    assert.equal(first.rescueFile, rescueDagName(join(dir, 'diamond.dag'), 1));
    const text = readFileSync(first.rescueFile!, 'utf8');
    assert.match(
      text,
      /^# Rescue DAG file, created after running\n# {3}the .*diamond\.dag DAG file\n# Created \d+\/\d+\/\d{4} \d\d:\d\d:\d\d UTC\n# Rescue DAG version: 2\.0\.1 \(partial\)\n#\n/,
    );
    assert.match(
      text,
      /# Total number of Nodes: 6\n# Nodes premarked DONE: 3\n# Nodes that failed: 2\n# {3}C,F,<ENDLIST>\n/,
    );
    assert.deepEqual(
      text.split('\n').filter((l) => l && !l.startsWith('#')),
      ['DONE A', 'DONE B', 'RETRY C 1', 'DONE X'],
    );

    // 2nd run: resumed from rescue001; only C, D (and FINAL) run; C fails again → rescue002
    const second = await submit((n) => (n.name === 'C' ? 1 : 0));
    assert.equal(second.used, first.rescueFile);
    assert.deepEqual(submitOrder(second.host), ['C', 'C', 'F']);
    assert.equal(second.rescueFile, rescueDagName(join(dir, 'diamond.dag'), 2));
    assert.equal(newestRescueDag(join(dir, 'diamond.dag'))?.n, 2);

    // 3rd run: from rescue002, C now works: the DAG completes, no new rescue DAG
    const third = await submit(() => 0);
    assert.equal(third.used, second.rescueFile);
    assert.deepEqual(submitOrder(third.host), ['C', 'D', 'F']);
    assert.equal(third.exitCode, 0);
    assert.equal(third.rescueFile, undefined);

    // -force: every node runs again, the old rescue DAGs are retired (renamed .old)
    const forced = await submit(() => 0, { force: true });
    assert.equal(forced.used, undefined);
    assert.deepEqual(submitOrder(forced.host).sort(), ['A', 'B', 'C', 'D', 'F', 'X']);
    assert.deepEqual(findRescueDags(join(dir, 'diamond.dag')), []);
    assert.deepEqual(
      readdirSync(dir)
        .filter((f) => f.endsWith('.old'))
        .sort(),
      ['diamond.dag.rescue001.old', 'diamond.dag.rescue002.old'],
    );
  });

  test('dagman rescue – a rescue DAG naming a node that is no longer in the DAG is an error', () => {
    writeFileSync(join(dir, 'diamond.dag'), 'JOB A a.sub\n');
    writeFileSync(join(dir, 'diamond.dag.rescue001'), '# Rescue DAG file\nDONE Gone\n');
    assert.throws(
      () => loadDagForRun('diamond.dag', { cwd: dir }),
      (e: Error & { code?: string }) => e.code === 'DAG_UNKNOWN_NODE' && /rescue001:2:6/.test(e.message),
    );
  });

  test('dagman rescue – doRescueFrom picks an older rescue DAG and retires the newer ones', () => {
    writeFileSync(join(dir, 'diamond.dag'), 'JOB A a.sub\nJOB B b.sub\n');
    writeFileSync(join(dir, 'diamond.dag.rescue001'), 'DONE A\n');
    writeFileSync(join(dir, 'diamond.dag.rescue002'), 'DONE A\nDONE B\n');
    const dag = loadDagForRun('diamond.dag', { cwd: dir, doRescueFrom: 1 });
    assert.deepEqual(
      dag.nodes.map((n) => n.done),
      [true, false],
    );
    assert.deepEqual(
      findRescueDags(join(dir, 'diamond.dag')).map((r) => r.n),
      [1],
    );
  });

  test('dagman rescue – spliced nodes are recorded by their full names and found again', async () => {
    writeFileSync(join(dir, 'inner.dag'), 'JOB A a.sub\nJOB B b.sub\nPARENT A CHILD B\n');
    writeFileSync(join(dir, 'diamond.dag'), 'SPLICE S inner.dag\nJOB Z z.sub\nPARENT S CHILD Z\n');
    const first = await submit((n) => (n.name === 'S+B' ? 1 : 0));
    assert.match(readFileSync(first.rescueFile!, 'utf8'), /\nDONE S\+A\n$/);
    const second = await submit(() => 0);
    assert.deepEqual(submitOrder(second.host), ['S+B', 'Z']);
  });

  test('dagman rescue – a resume parses the DAG with the rescue DAG its run started from, not a newer one', async () => {
    writeFileSync(join(dir, 'diamond.dag'), 'JOB A a.sub\nJOB B b.sub\nPARENT A CHILD B\n');
    writeFileSync(join(dir, 'diamond.dag.rescue001'), 'DONE A\n');
    const dag = loadDagForRun('diamond.dag', { cwd: dir });
    const host = new FakeHost(() => 1);
    host.files = fsFileWriter;
    host.crashAt = { count: 6, persist: false }; // dag_started, submitting, submitted, cluster_done, dag_finishing, [dag_finished]
    const e1 = new DagEngine(dag, host);
    host.engine = e1;
    e1.start();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(host.events.at(-1)!.type, 'dag_finishing');
    assert.ok(newestRescueDag(join(dir, 'diamond.dag'))!.n === 2); // written by this run before the crash
    host.crashed = false;
    host.crashAt = undefined;
    // the newest rescue DAG is not the one this run started with
    assert.throws(
      () => DagEngine.restore(loadDagForRun('diamond.dag', { cwd: dir }), host.events, host),
      /was started from .*rescue001 but is being resumed with .*rescue002/,
    );
    const e2 = DagEngine.restore(loadDagForResume('diamond.dag', host.events, { cwd: dir }), host.events, host);
    e2.start();
    const r = await e2.result;
    assert.match(r.rescueFile!, /rescue002$/);
    assert.equal(host.submitCount.get('A'), undefined);
  });

  test('dagman rescue – the node status in a parsed rescue DAG matches what a rescue DAG says', () => {
    const dag = parseDagString('JOB A a\nJOB B b\nDONE A\n', 'x.dag', { cwd: dir });
    assert.deepEqual(
      dag.nodes.map((n) => n.done),
      [true, false],
    );
  });
});

// another user's file beside the DAG (a folder others may write) is never a rescue DAG of this user's
describe(
  'dagman – a rescue DAG of another user is not applied',
  { skip: process.geteuid?.() !== 0 && 'needs root' },
  () => {
    test('the newest of the owner: another uid and a link are passed over, named; -force leaves them', () => {
      writeFileSync(join(dir, 'diamond.dag'), DAG);
      writeFileSync(rescueDagName(join(dir, 'diamond.dag'), 1), 'DONE A\n');
      writeFileSync(rescueDagName(join(dir, 'diamond.dag'), 2), 'DONE A\nSCRIPT PRE B /tmp/planted.sh\n');
      chownSync(rescueDagName(join(dir, 'diamond.dag'), 2), 65534, 65534);
      symlinkSync(rescueDagName(join(dir, 'diamond.dag'), 1), rescueDagName(join(dir, 'diamond.dag'), 3));
      const passed: string[] = [];
      const dag = loadDagForRun('diamond.dag', { cwd: dir, onForeignRescue: (f, why) => passed.push(`${f}: ${why}`) });
      assert.equal(dag.rescueFile, rescueDagName(join(dir, 'diamond.dag'), 1));
      assert.equal(dag.nodes.find((n) => n.name === 'B')!.pre, undefined, 'no planted script');
      assert.equal(passed.length, 2, passed.join('\n'));
      assert.match(passed[0]!, /rescue003: it is a link/);
      assert.match(passed[1]!, /rescue002: it belongs to uid 65534/);
      loadDagForRun('diamond.dag', { cwd: dir, force: true });
      assert.deepEqual(readdirSync(dir).sort(), [
        'diamond.dag',
        'diamond.dag.rescue001.old',
        'diamond.dag.rescue002',
        'diamond.dag.rescue003',
      ]);
    });

    test("readRescueDagFile refuses another uid and a link; reads the reader's own", () => {
      const own = join(dir, 'own.rescue');
      writeFileSync(own, 'DONE A\n');
      assert.equal(readRescueDagFile(own), 'DONE A\n');
      symlinkSync(own, join(dir, 'link.rescue'));
      assert.throws(() => readRescueDagFile(join(dir, 'link.rescue')), { code: 'ELOOP' });
      chownSync(own, 65534, 65534);
      assert.throws(() => readRescueDagFile(own), /belongs to uid 65534/);
    });
  },
);
