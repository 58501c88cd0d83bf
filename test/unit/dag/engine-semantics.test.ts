// dagman – the engine does what DAGMan does: order, PRE/job/POST, RETRY, ABORT-DAG-ON, PRE_SKIP, FINAL, NOOP,
// DONE, VARS, priorities and throttles, with an in-memory host.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DschedError } from '../../../lib/errors.js';
import { parseDagString, type Dag } from '../../../grammar/dag/index.js';
import { DagEngine } from '../../../daemons/schedd/dagman/engine.js';
import { clusterOutcome } from '../../../daemons/schedd/dagman/events.js';
import { FakeHost, runDag, settle, submitOrder } from './fake-host.js';

const dagOf = (text: string): Dag => parseDagString(text, 'test.dag', { cwd: '/w', isDirectory: () => true });
const DIAMOND = 'JOB A a.sub\nJOB B b.sub\nJOB C c.sub\nJOB D d.sub\nPARENT A CHILD B C\nPARENT B C CHILD D\n';

/** index of the first event matching */
function at(host: FakeHost, type: string, node: string): number {
  return host.events.findIndex((e) => e.type === type && 'node' in e && e.node === node);
}
const phases = (e: DagEngine): Record<string, string> =>
  Object.fromEntries(e.nodeViews().map((v) => [v.name, v.phase]));

describe('dagman engine – order', () => {
  test('dagman – the diamond runs A, then B and C, then D', async () => {
    const { engine, host } = await runDag(dagOf(DIAMOND));
    const r = await engine.result;
    assert.deepEqual([r.status, r.exitCode, r.rescueFile], [0, 0, undefined]);
    assert.ok(at(host, 'cluster_done', 'A') < at(host, 'submitting', 'B'));
    assert.ok(at(host, 'cluster_done', 'A') < at(host, 'submitting', 'C'));
    assert.ok(at(host, 'cluster_done', 'B') < at(host, 'submitting', 'D'));
    assert.ok(at(host, 'cluster_done', 'C') < at(host, 'submitting', 'D'));
    assert.deepEqual([...host.submitCount.values()], [1, 1, 1, 1]);
  });

  // one job at a time, so the order of the ready queue is the order of submission
  for (const [first, order] of [
    [undefined, ['A', 'B', 'C']],
    [true, ['A', 'B', 'C']],
    [false, ['B', 'C', 'A']],
  ] as const)
    test(`dagman – DAGMAN_RETRY_SUBMIT_FIRST = ${first ?? 'default (true)'}: a failed submission tries again ${first === false ? 'after' : 'before'} the other ready nodes`, async () => {
      const host = new FakeHost();
      let refused = false;
      host.failSubmit = (node) =>
        node.name === 'A' && !refused ? ((refused = true), new Error('the schedd said no')) : undefined;
      await runDag(dagOf('JOB A a\nJOB B b\nJOB C c\n'), host, {
        maxJobs: 1,
        submitRetryDelayMs: 0,
        retrySubmitFirst: first,
      });
      assert.deepEqual(submitOrder(host), order);
    });

  for (const [first, order] of [
    [undefined, ['A', 'B', 'C', 'A']],
    [true, ['A', 'A', 'B', 'C']],
  ] as const)
    test(`dagman – DAGMAN_RETRY_NODE_FIRST = ${first ?? 'default (false)'}: a failed node's retry goes ${first ? 'before' : 'after'} the other ready nodes`, async () => {
      // A fails once and has a retry; B and C wait for the one job slot meanwhile
      const host = new FakeHost((node, retry) => (node.name === 'A' && retry === 0 ? 1 : 0));
      await runDag(dagOf('JOB A a\nJOB B b\nJOB C c\nRETRY A 1\n'), host, { maxJobs: 1, retryNodeFirst: first });
      assert.deepEqual(submitOrder(host), order);
    });

  test('dagman – ready nodes go in PRIORITY order, then file order', async () => {
    const host = new FakeHost();
    await runDag(dagOf('JOB A a\nJOB B b\nJOB C c\nJOB D d\nPRIORITY C 5\nPRIORITY D -1\n'), host, { maxJobs: 1 });
    assert.deepEqual(submitOrder(host), ['C', 'A', 'B', 'D']);
  });

  test("dagman – a failed node's descendants never run while independent branches go on", async () => {
    const dag = dagOf(
      'JOB A a\nJOB B b\nJOB C c\nJOB X x\nJOB Y y\nPARENT A CHILD B\nPARENT B CHILD C\nPARENT X CHILD Y\n',
    );
    const host = new FakeHost((n) => (n.name === 'A' ? 1 : 0));
    const { engine } = await runDag(dag, host);
    const r = await engine.result;
    assert.deepEqual(phases(engine), { A: 'failed', B: 'futile', C: 'futile', X: 'done', Y: 'done' });
    assert.deepEqual(submitOrder(host).sort(), ['A', 'X', 'Y']);
    assert.deepEqual([r.status, r.exitCode], [2, 1]);
    assert.match(r.rescueFile ?? '', /test\.dag\.rescue001$/);
  });

  test('dagman – DONE nodes are skipped, NOOP nodes submit nothing but run their scripts', async () => {
    const dag = dagOf(
      'JOB A a DONE\nJOB B b NOOP\nJOB C c\nSCRIPT PRE B pre.sh $JOB\nSCRIPT POST B post.sh $JOB\nPARENT A CHILD B\nPARENT B CHILD C\n',
    );
    const host = new FakeHost();
    const { engine } = await runDag(dag, host);
    assert.equal((await engine.result).exitCode, 0);
    assert.deepEqual(submitOrder(host), ['C']);
    assert.deepEqual(
      host.scriptRuns.map((s) => s.argv.join(' ')),
      ['pre.sh B', 'post.sh B'],
    );
  });

  test('dagman – a SUBDAG EXTERNAL node is submitted through the host like a job', async () => {
    const host = new FakeHost();
    await runDag(dagOf('SUBDAG EXTERNAL S inner.dag\n'), host);
    assert.equal([...host.clusters.values()][0]!.node, 'S');
  });
});

describe('dagman engine – PRE, job, POST and RETRY', () => {
  test('dagman – a failing node with RETRY 2 and a POST script: the whole node reruns, POST decides', async () => {
    const dag = dagOf(
      'JOB A a\nJOB B b\nPARENT A CHILD B\nSCRIPT PRE A pre.sh $JOB $RETRY $MAX_RETRIES\nSCRIPT POST A post.sh $JOB $RETURN $RETRY $PRE_SCRIPT_RETURN $JOBID\nRETRY A 2\n',
    );
    // the job fails on attempts 0 and 1 (exit 3), succeeds on attempt 2; POST passes the job's result through
    const host = new FakeHost(
      (n, retry) => (n.name === 'A' && retry < 2 ? 3 : 0),
      (kind, _n, argv) => (kind === 'POST' ? Number(argv[2]) : 0),
    );
    const { engine } = await runDag(dag, host);
    assert.equal((await engine.result).exitCode, 0);
    const runs = host.scriptRuns.map((s) => s.argv.join(' '));
    assert.equal(runs.length, 6);
    assert.deepEqual(
      runs.filter((r) => r.startsWith('pre.sh')),
      ['pre.sh A 0 2', 'pre.sh A 1 2', 'pre.sh A 2 2'],
    );
    const posts = runs.filter((r) => r.startsWith('post.sh'));
    assert.match(posts[0]!, /^post\.sh A 3 0 0 \d+\.0$/);
    assert.match(posts[1]!, /^post\.sh A 3 1 0 \d+\.0$/);
    assert.match(posts[2]!, /^post\.sh A 0 2 0 \d+\.0$/);
    assert.equal(host.submitCount.get('A'), 3);
    assert.equal(host.submitCount.get('B'), 1);
    assert.equal(engine.nodeViews()[0]!.retry, 2);
  });

  test("dagman – RETRY exhausted: the node fails with the POST script's exit code", async () => {
    const dag = dagOf('JOB A a\nSCRIPT POST A post.sh $RETURN\nRETRY A 2\n');
    const host = new FakeHost(
      () => 1,
      () => 7,
    );
    const { engine } = await runDag(dag, host);
    assert.equal(host.submitCount.get('A'), 3);
    assert.deepEqual(engine.nodeViews()[0]!.returnCode, 7);
    assert.equal((await engine.result).exitCode, 1);
  });

  test('dagman – a POST script can turn a failed job into a successful node', async () => {
    const host = new FakeHost(
      () => 5,
      () => 0,
    );
    const { engine } = await runDag(dagOf('JOB A a\nSCRIPT POST A ok.sh $RETURN\n'), host);
    assert.equal((await engine.result).exitCode, 0);
    assert.deepEqual(host.scriptRuns[0]!.argv, ['ok.sh', '5']);
  });

  test('dagman – RETRY … UNLESS-EXIT stops retrying on that value', async () => {
    const host = new FakeHost(() => 42);
    const { engine } = await runDag(dagOf('JOB A a\nRETRY A 5 UNLESS-EXIT 42\n'), host);
    assert.equal(host.submitCount.get('A'), 1);
    assert.equal(engine.nodeViews()[0]!.phase, 'failed');
  });

  test('dagman – a failed PRE script fails the node without its job or POST script', async () => {
    const host = new FakeHost(
      () => 0,
      (kind) => (kind === 'PRE' ? 2 : 0),
    );
    const { engine } = await runDag(dagOf('JOB A a\nSCRIPT PRE A pre.sh\nSCRIPT POST A post.sh\n'), host);
    assert.equal(host.submitCount.get('A'), undefined);
    assert.deepEqual(
      host.scriptRuns.map((s) => s.kind),
      ['PRE'],
    );
    assert.deepEqual(engine.nodeViews()[0]!.returnCode, 2);
  });

  test('dagman – alwaysRunPost: after a failed PRE, POST runs with $RETURN -1004 and decides', async () => {
    const host = new FakeHost(
      () => 0,
      (kind) => (kind === 'PRE' ? 2 : 0),
    );
    const { engine } = await runDag(
      dagOf('JOB A a\nSCRIPT PRE A pre.sh\nSCRIPT POST A post.sh $RETURN $PRE_SCRIPT_RETURN\n'),
      host,
      { alwaysRunPost: true },
    );
    assert.deepEqual(host.scriptRuns[1]!.argv, ['post.sh', '-1004', '2']);
    assert.equal((await engine.result).exitCode, 0);
  });

  test('dagman – PRE_SKIP: the PRE exit code skips job and POST, and the node succeeds', async () => {
    const dag = dagOf('JOB A a\nJOB B b\nPARENT A CHILD B\nSCRIPT PRE A pre.sh\nSCRIPT POST A post.sh\nPRE_SKIP A 3\n');
    const host = new FakeHost(
      () => 0,
      (kind, n) => (kind === 'PRE' && n.name === 'A' ? 3 : 0),
    );
    const { engine } = await runDag(dag, host);
    assert.equal((await engine.result).exitCode, 0);
    assert.deepEqual(submitOrder(host), ['B']);
    assert.deepEqual(
      host.scriptRuns.map((s) => `${s.kind} ${s.node}`),
      ['PRE A'],
    );
    assert.equal(phases(engine)['A'], 'done');
  });

  test('dagman – a script killed by a signal reports minus the signal number', async () => {
    const host = new FakeHost(() => 0);
    host.runScript = () => Promise.resolve({ exitCode: null, signal: 'SIGKILL' });
    const { engine } = await runDag(dagOf('JOB A a\nSCRIPT POST A p.sh\n'), host);
    assert.equal(engine.nodeViews()[0]!.returnCode, -9);
  });

  test('dagman – SCRIPT DEFER reruns only the script, after the delay', async () => {
    let calls = 0;
    const host = new FakeHost(
      () => 0,
      () => (++calls === 1 ? 4 : 0),
    );
    const engine = new DagEngine(dagOf('JOB A a\nSCRIPT DEFER 4 30 POST A p.sh\n'), host);
    host.engine = engine;
    engine.start();
    await settle(engine, host, 50);
    assert.equal(calls, 1);
    assert.equal(engine.nodeViews()[0]!.phase, 'post_ready');
    host.advance(29_000);
    await settle(engine, host, 20);
    assert.equal(calls, 1);
    host.advance(1_000);
    await settle(engine, host);
    assert.equal(calls, 2);
    assert.equal((await engine.result).exitCode, 0);
    assert.equal(host.submitCount.get('A'), 1);
  });

  test('dagman – a multi-proc cluster fails as soon as one proc fails, and the rest is removed', async () => {
    const host = new FakeHost(() =>
      clusterOutcome([
        { proc: 0, exitCode: 0 },
        { proc: 1, signal: 'SIGSEGV' },
        { proc: 2, exitCode: 1 },
      ]),
    );
    host.procsOf = () => 3;
    const { engine } = await runDag(dagOf('JOB A a\n'), host);
    assert.equal(engine.nodeViews()[0]!.returnCode, -11);
    assert.equal(host.removals.length, 1);
  });
});

describe('dagman engine – submitting', () => {
  test('dagman – VARS reach the node: prepended as macros, appended as lines, My. as attributes', async () => {
    const dag = dagOf(
      'JOB A a\nJOB B b\nPARENT A CHILD B\nVARS B state="Wisconsin" PREPEND_ME="x"\nVARS B APPEND late="1"\nVARS B My.Owner2="\\"bob\\""\nPRIORITY B 7\n',
    );
    const host = new FakeHost();
    await runDag(dag, host);
    const b = [...host.clusters.values()].find((c) => c.node === 'B')!;
    assert.deepEqual(b.vars.macros, {
      JOB: 'B',
      RETRY: '0',
      FAILED_COUNT: '0',
      DAG_STATUS: '0',
      DAG_PARENT_NAMES: 'A',
      state: 'Wisconsin',
      PREPEND_ME: 'x',
    });
    assert.deepEqual(b.vars.append, [
      'late = 1',
      'My.Owner2 = "bob"',
      'My.DAGNodeName = "B"',
      'My.DAGParentNodeNames = "A"',
      'priority = 7',
    ]);
  });

  test('dagman – a failed submission is retried after a back-off; bad input is not', async () => {
    let fails = 2;
    const host = new FakeHost();
    host.failSubmit = (n) =>
      n.name === 'A' && fails-- > 0
        ? new Error('schedd busy')
        : n.name === 'B'
          ? new DschedError('SUBMIT_SYNTAX', 'bad submit file')
          : undefined;
    const engine = new DagEngine(dagOf('JOB A a\nJOB B b\nSCRIPT POST B p.sh $RETURN\n'), host, {
      submitRetryDelayMs: 1000,
    });
    host.engine = engine;
    engine.start();
    await settle(engine, host, 50);
    assert.equal(host.submitCount.get('A'), undefined);
    host.advance(1000);
    await settle(engine, host, 50);
    host.advance(2000);
    await settle(engine, host);
    assert.equal(host.submitCount.get('A'), 1);
    assert.deepEqual(host.scriptRuns[0]!.argv, ['p.sh', '-1001']);
    assert.equal(host.events.filter((e) => e.type === 'submit_failed' && e.node === 'B').length, 1);
  });

  test('dagman – submissions the pool refuses for its own reasons (disk full, queue unavailable) spend no attempt', async () => {
    // twenty refusals in a row: more than DAGMAN_MAX_SUBMIT_ATTEMPTS, each waiting longer, up to 32 s
    let refusals = 20;
    const host = new FakeHost();
    host.failSubmit = () =>
      refusals-- > 0
        ? refusals % 2
          ? new DschedError('DISK_FULL', 'the disk holding the job queue is full')
          : new DschedError('QUEUE_BUSY', 'the job queue is locked')
        : undefined;
    const engine = new DagEngine(dagOf('JOB A a\nSCRIPT POST A p.sh $RETURN\n'), host, {
      maxSubmitAttempts: 2,
      submitRetryDelayMs: 1000,
    });
    host.engine = engine;
    engine.start();
    for (let k = 0; k < 1000 && refusals >= 0; k++) {
      await settle(engine, host, 5);
      host.advance(1000);
    }
    await settle(engine, host);
    assert.equal(host.submitCount.get('A'), 1, 'submitted once the pool took it');
    assert.deepEqual(host.scriptRuns[0]!.argv, ['p.sh', '0']);
    const refused = host.events.filter((e) => e.type === 'submit_failed');
    assert.equal(refused.length, 20);
    assert.ok(refused.every((e) => e.type === 'submit_failed' && e.outage && !e.final && e.attempt === 1));
    // the waits double from 1 s and stop doubling at 32 s
    const submitting = host.events.filter((e) => e.type === 'submitting').map((e) => e.at);
    const waits = submitting.slice(1).map((t, k) => t - refused[k]!.at);
    assert.deepEqual(waits.slice(0, 7), [1000, 2000, 4000, 8000, 16000, 32000, 32000]);
    assert.equal((await engine.result).exitCode, 0);
  });
});

describe('dagman engine – throttles', () => {
  const wide = (n: number, extra = ''): Dag =>
    dagOf(Array.from({ length: n }, (_, i) => `JOB N${i} n.sub\nCATEGORY N${i} heavy\n`).join('') + extra);

  test('dagman – a category with MAXJOBS 2 never has 3 clusters in the queue', async () => {
    const host = new FakeHost(() => 'never');
    const engine = new DagEngine(wide(10, 'MAXJOBS heavy 2\n'), host);
    host.engine = engine;
    engine.start();
    for (let k = 0; k < 10; k++) {
      await settle(engine, host, 5);
      const q = host.queued();
      assert.ok(q.length <= 2, `${q.length} in the queue`);
      // finish them in an unpredictable order
      host.complete(q[q.length - 1]!.cluster, 0);
    }
    await settle(engine, host);
    assert.equal(host.maxInQueue.get('heavy'), 2);
    assert.equal((await engine.result).summary.done, 10);
  });

  test('dagman – -maxjobs, -maxpre and -maxpost are never exceeded', async () => {
    const text = Array.from(
      { length: 12 },
      (_, i) => `JOB N${i} n.sub\nSCRIPT PRE N${i} pre.sh\nSCRIPT POST N${i} post.sh\n`,
    ).join('');
    const host = new FakeHost();
    host.slowScripts = true;
    let pre = 0;
    let post = 0;
    let maxPre = 0;
    let maxPost = 0;
    const inner = host.runScript.bind(host);
    host.runScript = async (kind, node, argv, cwd, opts) => {
      if (kind === 'PRE') maxPre = Math.max(maxPre, ++pre);
      else maxPost = Math.max(maxPost, ++post);
      const r = await inner(kind, node, argv, cwd, opts);
      if (kind === 'PRE') pre--;
      else post--;
      return r;
    };
    const { engine } = await runDag(dagOf(text), host, { maxJobs: 3, maxPre: 2, maxPost: 1 });
    assert.equal((await engine.result).summary.done, 12);
    assert.equal(maxPre, 2);
    assert.equal(maxPost, 1);
    assert.equal(host.maxQueued, 3);
  });

  test('dagman – -maxidle holds submissions while that many procs are idle', async () => {
    const host = new FakeHost(() => 'never');
    const engine = new DagEngine(wide(6), host, { maxIdle: 2 });
    host.engine = engine;
    engine.start();
    await settle(engine, host, 10);
    assert.equal(host.queued().length, 2);
    engine.onClusterProgress(host.queued()[0]!.cluster, { idle: 0, running: 1, held: 0 });
    await settle(engine, host, 10);
    assert.equal(host.queued().length, 3);
    const s = engine.summary();
    assert.deepEqual([s.running, s.idle, s.ready], [1, 2, 3]);
  });
});

describe('dagman engine – ABORT-DAG-ON, FINAL and removal', () => {
  test('dagman – ABORT-DAG-ON … RETURN: overrides RETRY, removes running node jobs, exits with RETURN', async () => {
    const dag = dagOf(DIAMOND + 'RETRY C 3\nABORT-DAG-ON C 10 RETURN 1\n');
    const host = new FakeHost((n) => (n.name === 'C' ? 10 : n.name === 'B' ? 'never' : 0));
    const { engine } = await runDag(dag, host);
    const r = await engine.result;
    assert.deepEqual([r.status, r.exitCode], [3, 1]);
    assert.equal(host.submitCount.get('C'), 1); // no retry
    assert.equal(host.submitCount.get('D'), undefined);
    const b = [...host.clusters.values()].find((c) => c.node === 'B')!;
    assert.equal(b.state, 'removed');
    assert.deepEqual(
      host.removals.map((r) => r.cluster),
      [b.cluster],
    );
    assert.match(host.removals[0]!.reason, /ABORT-DAG-ON: node C returned 10/);
    assert.match(r.rescueFile ?? '', /rescue001$/);
  });

  test("dagman – ABORT-DAG-ON without RETURN exits with the node's value", async () => {
    const { engine } = await runDag(dagOf('JOB A a\nABORT-DAG-ON A 4\n'), new FakeHost(() => 4));
    assert.deepEqual([(await engine.result).exitCode, (await engine.result).status], [4, 3]);
  });

  test('dagman – first success wins: ABORT-DAG-ON task 0 RETURN 0 ends the DAG successfully', async () => {
    const dag = dagOf('JOB T1 t\nJOB T2 t\nJOB T3 t\nABORT-DAG-ON ALL_NODES 0 RETURN 0\n');
    const host = new FakeHost((n) => (n.name === 'T2' ? 0 : 'never'));
    const { engine } = await runDag(dag, host);
    const r = await engine.result;
    assert.deepEqual([r.status, r.exitCode, r.rescueFile], [0, 0, undefined]);
    assert.deepEqual(host.queued(), []);
    assert.equal(host.removals.length, 2);
  });

  test('dagman – the FINAL node runs last, after a failure, with $DAG_STATUS and $FAILED_COUNT, and decides', async () => {
    const dag = dagOf('JOB A a\nJOB B b\nFINAL F f.sub\nSCRIPT PRE F final.sh $DAG_STATUS $FAILED_COUNT\n');
    const host = new FakeHost((n) => (n.name === 'A' ? 1 : 0));
    const { engine } = await runDag(dag, host);
    const r = await engine.result;
    assert.equal(submitOrder(host).at(-1), 'F');
    assert.deepEqual(host.scriptRuns[0]!.argv, ['final.sh', '2', '1']);
    const f = [...host.clusters.values()].find((c) => c.node === 'F')!;
    assert.equal(f.vars.macros['DAG_STATUS'], '2');
    assert.equal(f.vars.macros['FAILED_COUNT'], '1');
    assert.ok(f.vars.append.includes('My.DAG_Status = 2'));
    assert.deepEqual([r.status, r.exitCode], [0, 0]); // the FINAL node succeeded
  });

  test('dagman – the FINAL node runs after ABORT-DAG-ON, outside the throttles, and its failure fails the DAG', async () => {
    const dag = dagOf('JOB A a\nJOB B b\nABORT-DAG-ON A 3\nFINAL F f.sub\nCATEGORY ALL_NODES c\nMAXJOBS c 1\n');
    const host = new FakeHost((n) => (n.name === 'A' ? 3 : n.name === 'F' ? 1 : 'never'));
    const { engine } = await runDag(dag, host, { maxJobs: 1 });
    const r = await engine.result;
    assert.equal(host.submitCount.get('F'), 1);
    assert.equal([...host.clusters.values()].find((c) => c.node === 'F')!.vars.macros['DAG_STATUS'], '3');
    assert.deepEqual([r.status, r.exitCode], [3, 1]);
  });

  test('dagman – removing the DAG removes node jobs, stops scripts, runs FINAL and writes a rescue DAG', async () => {
    const dag = dagOf('JOB A a\nJOB B b\nSCRIPT PRE B slow.sh\nFINAL F f.sub\n');
    const host = new FakeHost((n) => (n.name === 'A' ? 'never' : 0));
    const aborted: boolean[] = [];
    host.runScript = (_k, _n, _a, _c, opts) =>
      new Promise((resolve) =>
        opts.signal.addEventListener(
          'abort',
          () => (aborted.push(true), resolve({ exitCode: null, signal: 'SIGTERM' })),
        ),
      );
    const engine = new DagEngine(dag, host);
    host.engine = engine;
    engine.start();
    await settle(engine, host, 10);
    assert.deepEqual(engine.summary().pre, 1);
    engine.remove('drm by alice');
    await settle(engine, host);
    const r = await engine.result;
    assert.deepEqual(aborted, [true]);
    assert.equal([...host.clusters.values()].find((c) => c.node === 'A')!.state, 'removed');
    assert.equal(host.submitCount.get('F'), 1);
    assert.equal([...host.clusters.values()].find((c) => c.node === 'F')!.vars.macros['DAG_STATUS'], '4');
    assert.deepEqual([r.status, r.exitCode], [0, 0]); // the FINAL node succeeded: its result is the DAG's
    assert.match(r.rescueFile ?? '', /rescue001$/); // but the rest of the DAG did not finish
  });

  test('dagman – removing a DAG without a FINAL node: status 4 and a rescue DAG', async () => {
    const host = new FakeHost(() => 'never');
    const engine = new DagEngine(dagOf('JOB A a\nJOB B b\nPARENT A CHILD B\n'), host);
    host.engine = engine;
    engine.start();
    await settle(engine, host, 5);
    engine.remove('drm');
    await settle(engine, host);
    const r = await engine.result;
    assert.deepEqual([r.status, r.exitCode], [4, 1]);
    assert.ok(r.rescueFile);
    assert.match(host.mem.data.get(r.rescueFile!)!, /Nodes that failed: 0/);
  });

  test('dagman – a HOLD script runs when a node job is held', async () => {
    const host = new FakeHost(() => 'hold');
    const engine = new DagEngine(dagOf('JOB A a\nSCRIPT HOLD A tell.sh $JOB\n'), host);
    host.engine = engine;
    engine.start();
    await settle(engine, host, 10);
    assert.deepEqual(
      host.scriptRuns.map((s) => [s.kind, ...s.argv]),
      [['HOLD', 'tell.sh', 'A']],
    );
    assert.equal(engine.summary().held, 1);
  });

  test('dagman – a DAG with REJECT refuses to run', () => {
    assert.throws(() => new DagEngine(dagOf('JOB A a\nREJECT\n'), new FakeHost()), /REJECT/);
  });
});
