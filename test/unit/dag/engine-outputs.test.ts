// dagman – the DAG's own files in DAGMan's formats: JOBSTATE_LOG lines, the NODE_STATUS_FILE ClassAds, the DOT
// graph; and the node counts `dq` shows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDagString } from '../../../grammar/dag/index.js';
import { DagEngine } from '../../../daemons/schedd/dagman/engine.js';
import { FakeHost, runDag, settle } from './fake-host.js';

const text =
  'JOB A a.sub\nJOB B b.sub\nJOB C c.sub\nPARENT A CHILD B C\nSCRIPT PRE A pre.sh\nSCRIPT POST B post.sh $RETURN\n' +
  'NODE_STATUS_FILE st.txt 0\nJOBSTATE_LOG js.log\nDOT dag.dot\n';
const dag = parseDagString(text, 'o.dag', { cwd: '/w' });

describe('dagman outputs', () => {
  test('dagman outputs – JOBSTATE_LOG: one line per event, `time node EVENT id tag - sequence`', async () => {
    const host = new FakeHost((n) => (n.name === 'C' ? 2 : 0));
    await runDag(dag, host, { dagJobId: '41.0' });
    const lines = host.mem.data
      .get('/w/js.log')!
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\d+ /, ''));
    assert.equal(lines[0], 'INTERNAL *** DAGMAN_STARTED 41.0 ***');
    assert.equal(lines.at(-1), 'INTERNAL *** DAGMAN_FINISHED 1 ***');
    const a = lines.filter((l) => l.startsWith('A '));
    assert.deepEqual(
      a.map((l) => l.replace(/ \d+\.0 /, ' N.0 ')),
      [
        'A PRE_SCRIPT_STARTED - - - 1',
        'A PRE_SCRIPT_TERMINATED 0 - - 1',
        'A PRE_SCRIPT_SUCCESS - - - 1',
        'A SUBMIT N.0 - - 1',
        'A JOB_TERMINATED N.0 - - 1',
        'A JOB_SUCCESS 0 - - 1',
      ],
    );
    assert.ok(lines.some((l) => /^C JOB_FAILURE 2 - - \d$/.test(l)));
    assert.ok(lines.some((l) => /^B POST_SCRIPT_SUCCESS - - - \d$/.test(l)));
  });

  test('dagman outputs – NODE_STATUS_FILE: a DagStatus ad, one NodeStatus ad per node, a StatusEnd ad', async () => {
    const host = new FakeHost((n) => (n.name === 'C' ? 2 : 0));
    await runDag(dag, host);
    const st = host.mem.data.get('/w/st.txt')!;
    assert.match(
      st,
      /^\[\n {2}Type = "DagStatus";\n {2}DagFiles = \{\n {4}"\/w\/o\.dag"\n {2}\};\n {2}Timestamp = \d+;\n {2}DagStatus = 6;/,
    );
    assert.match(
      st,
      /NodesTotal = 3;\n {2}NodesDone = 2;\n {2}NodesPre = 0;\n {2}NodesQueued = 0;\n {2}NodesPost = 0;\n {2}NodesReady = 0;\n {2}NodesUnready = 0;\n {2}NodesFutile = 0;\n {2}NodesFailed = 1;/,
    );
    assert.match(
      st,
      /\[\n {2}Type = "NodeStatus";\n {2}Node = "C";\n {2}NodeStatus = 6;\n {2}StatusDetails = "job failed with return value 2";\n {2}RetryCount = 0;/,
    );
    assert.match(st, /\[\n {2}Type = "StatusEnd";\n {2}EndTime = \d+;\n {2}NextUpdate = 0;\n\]\n$/);
  });

  test("dagman outputs – DOT: the graph with each node's state", async () => {
    const host = new FakeHost((n) => (n.name === 'C' ? 2 : 0));
    const engine = new DagEngine(dag, host);
    host.engine = engine;
    engine.start();
    const dot = host.mem.data.get('/w/dag.dot')!;
    assert.match(dot, /^digraph DAG \{\n {4}label="DAGMan Job status at .*";\n/);
    assert.ok(dot.includes('    "A" [shape=ellipse label="A (I)"];'));
    assert.ok(dot.includes('    "A" -> "B";\n    "A" -> "C";\n}'));
    await settle(engine, host);
  });

  test('dagman outputs – the node counts dq shows as the DAG runs', async () => {
    const d = parseDagString('JOB A a\nJOB B b\nJOB C c\nJOB D d\nPARENT A CHILD D\nSCRIPT PRE C pre.sh\n', 's.dag', {
      cwd: '/w',
    });
    const host = new FakeHost(() => 'never');
    host.runScript = () => new Promise(() => undefined); // C's PRE script runs for ever
    const engine = new DagEngine(d, host, { maxJobs: 1 });
    host.engine = engine;
    engine.start();
    await settle(engine, host, 10);
    const s0 = engine.summary();
    assert.deepEqual(
      {
        total: s0.total,
        idle: s0.idle,
        pre: s0.pre,
        ready: s0.ready,
        waiting: s0.waiting,
        done: s0.done,
        state: s0.state,
      },
      { total: 4, idle: 1, pre: 1, ready: 1, waiting: 1, done: 0, state: 'running' },
    );
    const a = host.queued()[0]!;
    engine.onClusterProgress(a.cluster, { idle: 0, running: 1, held: 0 });
    assert.equal(engine.summary().running, 1);
    host.complete(a.cluster, 0);
    await settle(engine, host, 10);
    const s1 = engine.summary();
    assert.deepEqual([s1.done, s1.idle, s1.ready, s1.waiting], [1, 1, 1, 0]);
    assert.deepEqual(
      engine.nodeViews().map((v) => v.phase),
      ['done', 'submitted', 'pre', 'job_ready'],
    );
  });
});

describe('dagman config', () => {
  test('dagman config – a CONFIG file sets the DAGMAN_* knobs; the command line wins', async () => {
    const { mergeDagmanOptions } = await import('../../../daemons/schedd/dagman/config.js');
    const { readDagmanConfig } = await import('../../../grammar/dag/index.js');
    const c = readDagmanConfig(
      '# dagman.config\nDAGMAN_MAX_JOBS_IDLE = 10\nDAGMAN_MAX_JOBS_SUBMITTED=4\nDAGMAN_ALWAYS_RUN_POST = True\nDAGMAN_DEFAULT_APPEND_VARS = false\nDAGMAN_FROB = 1\nDAGMAN_RETRY_SUBMIT_FIRST = false\nDAGMAN_RETRY_NODE_FIRST = yes\nMAX_JOBS = 3\n',
    );
    assert.deepEqual(c.engine, {
      maxIdle: 10,
      maxJobs: 4,
      alwaysRunPost: true,
      retrySubmitFirst: false,
      retryNodeFirst: true,
    });
    assert.equal(c.appendVarsByDefault, false);
    // each setting that changes nothing is named with its line, and why
    assert.deepEqual(
      c.ignored.map((i) => [i.name, i.line]),
      [
        ['DAGMAN_FROB', 6],
        ['MAX_JOBS', 9],
      ],
    );
    assert.match(
      c.ignored[0]!.why,
      /^DAGMAN_FROB is not a setting dsched's DAG manager has \(it takes .*DAGMAN_RETRY_SUBMIT_FIRST.*\); ignored$/,
    );
    assert.equal(c.ignored[1]!.why, 'MAX_JOBS is not a DAGMan setting; ignored');
    assert.deepEqual(mergeDagmanOptions(c.engine, { maxJobs: 2, maxIdle: undefined }), {
      maxIdle: 10,
      maxJobs: 2,
      alwaysRunPost: true,
      retrySubmitFirst: false,
      retryNodeFirst: true,
    });
  });

  test('dagman config – a line that is not NAME = value, or a bad value, is an error at its file:line', async () => {
    const { readDagmanConfig } = await import('../../../grammar/dag/index.js');
    const cases: Array<[string, string, RegExp]> = [
      ['# ok\nDAGMAN_MAX_JOBS_IDLE 10\n', 'd.cfg:2:1', /expected `NAME = value`/],
      ['DAGMAN_MAX_JOBS_SUBMITTED = two\n', 'd.cfg:1:29', /DAGMAN_MAX_JOBS_SUBMITTED must be an integer/],
      ['DAGMAN_MAX_SUBMIT_ATTEMPTS = 0\n', 'd.cfg:1:30', /of at least 1/],
      ['\n  DAGMAN_ALWAYS_RUN_POST = maybe\n', 'd.cfg:2:28', /must be true or false/],
    ];
    for (const [text, at, message] of cases) {
      assert.throws(
        () => readDagmanConfig(text, 'd.cfg'),
        (e: Error & { code?: string }) =>
          e.code === 'CONFIG_INVALID' && e.message.includes(`--> ${at}`) && message.test(e.message),
        text,
      );
    }
  });
});
