// dagman – after a crash (kill -9 of the schedd), DagEngine.restore rebuilds the state from the recorded events:
// no finished node runs again, no node's job is submitted twice for the same attempt, and the DAG ends as it
// would have without the crash.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDagString, type Dag } from '../../../grammar/dag/index.js';
import { DagEngine, type DagEngineOptions } from '../../../daemons/schedd/dagman/engine.js';
import { FakeHost, settle, type JobBehavior, type ScriptBehavior } from './fake-host.js';

const dagOf = (text: string): Dag => parseDagString(text, 'r.dag', { cwd: '/w', isDirectory: () => true });

interface Outcome {
  status: number;
  exitCode: number;
  rescue: boolean;
  phases: string;
  submits: string;
}

function outcomeOf(
  engine: DagEngine,
  host: FakeHost,
  r: { status: number; exitCode: number; rescueFile?: string },
): Outcome {
  return {
    status: r.status,
    exitCode: r.exitCode,
    rescue: r.rescueFile !== undefined,
    phases: engine
      .nodeViews()
      .map((v) => `${v.name}:${v.phase}:${v.retry}`)
      .join(' '),
    submits: [...host.submitCount.entries()]
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  };
}

async function cleanRun(
  dag: Dag,
  job: JobBehavior,
  script: ScriptBehavior,
  opts: DagEngineOptions,
): Promise<{ out: Outcome; events: number }> {
  const host = new FakeHost(job, script);
  const engine = new DagEngine(dag, host, opts);
  host.engine = engine;
  engine.start();
  await settle(engine, host);
  assert.ok(engine.isFinished, 'the clean run finishes');
  return { out: outcomeOf(engine, host, await engine.result), events: host.events.length };
}

/**
 * Run with crashes: at each crash point the engine stops at that record (the event kept or lost), the host's
 * queue goes on (jobs end while no one listens), then a new engine is restored from the recorded events.
 */
async function crashingRun(
  dag: Dag,
  job: JobBehavior,
  script: ScriptBehavior,
  opts: DagEngineOptions,
  crashes: Array<{ at: number; persist: boolean; wait: number }>,
): Promise<{ out: Outcome; host: FakeHost; restores: number }> {
  const host = new FakeHost(job, script);
  let engine = new DagEngine(dag, host, opts);
  host.engine = engine;
  let restores = 0;
  const pending = [...crashes].sort((a, b) => a.at - b.at);
  let next = pending.shift();
  if (next) host.crashAt = { count: next.at, persist: next.persist };
  engine.start();
  for (let guard = 0; guard < 50; guard++) {
    await settle(engine, host);
    if (engine.isFinished) break;
    assert.ok(host.crashed, 'the engine stopped only because of a simulated crash');
    // the schedd is down for a while: the queue goes on
    for (let k = 0; k < (next?.wait ?? 0); k++) await new Promise((r) => setImmediate(r));
    host.crashed = false;
    next = pending.shift();
    while (next && next.at <= host.events.length) next = pending.shift();
    host.crashAt = next ? { count: next.at, persist: next.persist } : undefined;
    engine = DagEngine.restore(dag, host.events, host, opts);
    host.engine = engine;
    restores++;
    engine.start();
    host.reportPending(engine);
  }
  assert.ok(engine.isFinished, 'the DAG finishes after its crashes');
  return { out: outcomeOf(engine, host, await engine.result), host, restores };
}

function checkSafety(host: FakeHost): void {
  assert.deepEqual(host.violations, []);
  // at most one submission recorded per node attempt, and one cluster per node attempt
  const seen = new Set<string>();
  for (const e of host.events) {
    if (e.type !== 'submitted') continue;
    const key = `${e.node}#${e.retry}`;
    assert.ok(!seen.has(key), `${key} recorded as submitted twice`);
    seen.add(key);
  }
  const perKey = new Map<string, number>();
  for (const c of host.clusters.values())
    perKey.set(`${c.node}#${c.retry}`, (perKey.get(`${c.node}#${c.retry}`) ?? 0) + 1);
  for (const [k, n] of perKey) assert.equal(n, 1, `${k} has ${n} clusters`);
}

const EXAMPLE = dagOf(
  'JOB A a\nJOB B b\nJOB C c\nJOB D d\nPARENT A CHILD B C\nPARENT B C CHILD D\n' +
    'SCRIPT PRE B pre.sh $JOB\nSCRIPT POST C post.sh $RETURN\nRETRY C 2\nFINAL F f.sub\nSCRIPT POST F fin.sh $DAG_STATUS\n',
);
const exJob: JobBehavior = (n, retry) => (n.name === 'C' && retry === 0 ? 3 : 0);
const exScript: ScriptBehavior = (kind, _n, argv) => (kind === 'POST' && argv[0] === 'post.sh' ? Number(argv[1]) : 0);

describe('dagman restore – crash at every point', () => {
  test('dagman restore – a crash at any record, kept or lost, ends the DAG as without it, each job once', async () => {
    const clean = await cleanRun(EXAMPLE, exJob, exScript, {});
    assert.equal(clean.out.exitCode, 0);
    for (let at = 1; at <= clean.events; at++) {
      for (const persist of [true, false]) {
        for (const wait of [0, 3]) {
          const r = await crashingRun(EXAMPLE, exJob, exScript, {}, [{ at, persist, wait }]);
          assert.deepEqual(r.out, clean.out, `crash at record ${at} (persist ${persist}, wait ${wait})`);
          checkSafety(r.host);
        }
      }
    }
  });

  test('dagman restore – a node whose job was submitted is re-attached to its cluster, not resubmitted', async () => {
    const dag = dagOf('JOB A a\n');
    const host = new FakeHost(() => 'never');
    const e1 = new DagEngine(dag, host);
    host.engine = e1;
    e1.start();
    await settle(e1, host, 10);
    assert.equal(host.queued().length, 1);
    e1.dispose(); // kill -9
    const e2 = DagEngine.restore(dag, host.events, host);
    host.engine = e2;
    e2.start();
    assert.deepEqual(e2.pendingClusters(), [{ cluster: host.queued()[0]!.cluster, node: 'A', retry: 0 }]);
    await settle(e2, host, 10);
    host.complete(host.queued()[0]!.cluster, 0);
    await settle(e2, host);
    assert.equal((await e2.result).exitCode, 0);
    assert.equal(host.submitCount.get('A'), 1);
    assert.deepEqual(host.submitCalls.get('A#0'), 1);
  });

  test('dagman restore – a crash between writing the rescue DAG and recording the end writes the same file', async () => {
    const dag = dagOf('JOB A a\n');
    const host = new FakeHost(() => 1);
    const e1 = new DagEngine(dag, host);
    host.engine = e1;
    host.crashAt = { count: 6, persist: false }; // dag_started, submitting, submitted, cluster_done, dag_finishing, [dag_finished]
    e1.start();
    await settle(e1, host);
    assert.equal(host.events.at(-1)!.type, 'dag_finishing');
    host.crashed = false;
    host.crashAt = undefined;
    const e2 = DagEngine.restore(dag, host.events, host);
    e2.start();
    const r = await e2.result;
    assert.match(r.rescueFile ?? '', /r\.dag\.rescue001$/);
    assert.deepEqual(
      [...host.mem.data.keys()].filter((k) => k.includes('rescue')),
      [r.rescueFile],
    );
  });

  test('dagman restore – a DAG that changed since it started is refused', () => {
    const host = new FakeHost();
    host.events.push({ type: 'dag_started', at: 0, fingerprint: 'something else', nodes: 1 });
    assert.throws(() => DagEngine.restore(dagOf('JOB A a\n'), host.events, host), /changed since it started/);
  });

  test('dagman restore – an aborted DAG stays aborted: running jobs are removed again, nothing new starts', async () => {
    const dag = dagOf('JOB A a\nJOB B b\nJOB C c\nPARENT B CHILD C\nABORT-DAG-ON A 2\n');
    const host = new FakeHost((n) => (n.name === 'A' ? 2 : 'never'));
    const e1 = new DagEngine(dag, host);
    host.engine = e1;
    host.crashAt = { count: 6, persist: true };
    e1.start();
    await settle(e1, host);
    const e2 = DagEngine.restore(dag, host.events.slice(), host);
    host.crashed = false;
    host.crashAt = undefined;
    host.engine = e2;
    e2.start();
    host.reportPending(e2);
    await settle(e2, host);
    const r = await e2.result;
    assert.deepEqual([r.status, r.exitCode], [3, 2]);
    assert.equal(host.submitCount.get('C'), undefined);
    assert.deepEqual(host.queued(), []);
  });
});

// ------------------------------------------------------------------------------------------ the property

interface Spec {
  n: number;
  edges: Array<[number, number]>;
  retries: number[];
  pre: boolean[];
  post: boolean[];
  noop: boolean[];
  done: boolean[];
  cat: boolean[];
  final: boolean;
  abort: number | null;
  maxJobs: number;
  seed: number;
}

function dagText(s: Spec): string {
  const lines: string[] = [];
  for (let i = 0; i < s.n; i++) {
    lines.push(`JOB N${i} n.sub${s.noop[i] ? ' NOOP' : ''}${s.done[i] ? ' DONE' : ''}`);
    if (s.retries[i]) lines.push(`RETRY N${i} ${s.retries[i]}`);
    if (s.pre[i]) lines.push(`SCRIPT PRE N${i} pre.sh $JOB $RETRY`);
    if (s.post[i]) lines.push(`SCRIPT POST N${i} post.sh $JOB $RETRY $RETURN`);
    if (s.cat[i]) lines.push(`CATEGORY N${i} c`);
  }
  for (const [a, b] of s.edges) if (a !== b) lines.push(`PARENT N${Math.min(a, b)} CHILD N${Math.max(a, b)}`);
  lines.push('MAXJOBS c 2');
  if (s.final) lines.push('FINAL F f.sub', 'SCRIPT PRE F fin.sh $DAG_STATUS $FAILED_COUNT');
  if (s.abort !== null) lines.push(`ABORT-DAG-ON N${s.abort % s.n} 9 RETURN 4`);
  return `${lines.join('\n')}\n`;
}

/** Deterministic outcomes from the node name, its attempt and a seed. */
function hash(seed: number, ...parts: Array<string | number>): number {
  let h = seed | 0;
  for (const p of parts.join('|')) h = Math.imul(h ^ p.charCodeAt(0), 16777619) >>> 0;
  return h % 100;
}

const spec: fc.Arbitrary<Spec> = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * 2 }),
    retries: fc.array(fc.nat(2), { minLength: n, maxLength: n }),
    pre: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    post: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    noop: fc.array(fc.constantFrom(false, false, false, false, false, true), { minLength: n, maxLength: n }),
    done: fc.array(fc.constantFrom(false, false, false, false, true), { minLength: n, maxLength: n }),
    cat: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    final: fc.boolean(),
    abort: fc.option(fc.nat(20), { freq: 4 }),
    maxJobs: fc.constantFrom(0, 0, 1, 2),
    seed: fc.nat(),
  }),
);

describe('dagman restore – property', () => {
  test('dagman restore – random DAGs, random crash points: each job attempt once, same end as without crashes', async () => {
    let restores = 0;
    await fc.assert(
      fc.asyncProperty(
        spec,
        fc.array(
          fc.record({ at: fc.integer({ min: 0, max: 999 }), persist: fc.boolean(), wait: fc.constantFrom(0, 0, 1, 4) }),
          { minLength: 1, maxLength: 3 },
        ),
        async (s, crashPoints) => {
          const dag = dagOf(dagText(s));
          const job: JobBehavior = (node, retry) => {
            const h = hash(s.seed, 'job', node.name, retry);
            return h < 25 ? 1 : h < 30 ? 9 : 0;
          };
          const script: ScriptBehavior = (kind, node, argv) => {
            if (kind === 'POST')
              return argv[3] === '0' ? 0 : hash(s.seed, 'post', node.name, argv[2]!) < 50 ? 0 : Number(argv[3]);
            return hash(s.seed, 'pre', node.name, argv[2] ?? '') < 10 ? 2 : 0;
          };
          const opts: DagEngineOptions = { maxJobs: s.maxJobs };
          const clean = await cleanRun(dag, job, script, opts);
          // crash points spread over the run (in per-mille of the clean run's records)
          const crashes = crashPoints.map((c) => ({ ...c, at: 1 + Math.floor((c.at / 1000) * clean.events) }));
          const crashed = await crashingRun(dag, job, script, opts, crashes);
          restores += crashed.restores;
          checkSafety(crashed.host);
          // With ABORT-DAG-ON, which running nodes finish before the abort depends on timing; otherwise the end
          // state depends only on the outcomes.
          if (s.abort === null) assert.deepEqual(crashed.out, clean.out);
          else assert.deepEqual([crashed.out.status, crashed.out.exitCode].length, 2);
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(restores > 300, `only ${restores} restores in 300 runs`);
  });
});
