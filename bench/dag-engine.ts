// The DAG manager's own overhead per node (target < 1 ms): a host whose jobs end as soon as they are submitted
// and whose event log is an in-memory array, so what is measured is the engine (decisions, bookkeeping,
// events), not the schedd or the disk.
// Run: node --import tsx bench/dag-engine.ts [nodes]
import { parseDagString, type Dag, type DagNode } from '../grammar/dag/index.js';
import { DagEngine, type DagEngineOptions } from '../daemons/schedd/dagman/engine.js';
import type { DagEvent, DagHost, ScriptResult } from '../daemons/schedd/dagman/events.js';

const N = Number(process.argv[2] ?? 100_000);

class InstantHost implements DagHost {
  readonly events: DagEvent[] = [];
  engine!: DagEngine;
  private next = 1;
  submitNode(): Promise<{ cluster: number; procs: number }> {
    const cluster = this.next++;
    // the job ends right after the engine records its submission
    queueMicrotask(() => queueMicrotask(() => this.engine.onClusterDone(cluster, { succeeded: true, returnCode: 0 })));
    return Promise.resolve({ cluster, procs: 1 });
  }
  removeCluster(): Promise<void> {
    return Promise.resolve();
  }
  runScript(_k: string, _n: DagNode, _argv: string[]): Promise<ScriptResult> {
    return Promise.resolve({ exitCode: 0 });
  }
  record(e: DagEvent): void {
    this.events.push(e);
  }
  now(): number {
    return Date.now();
  }
  log(): void {}
}

function layered(n: number, extra = ''): Dag {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`JOB n${i} job.sub`);
  for (let i = 1; i < n; i++) lines.push(`PARENT n${Math.floor((i - 1) / 4)} CHILD n${i}`);
  return parseDagString(lines.join('\n') + '\n' + extra, 'bench.dag', { cwd: '/tmp' });
}

async function run(name: string, dag: Dag, opts: DagEngineOptions = {}): Promise<void> {
  const host = new InstantHost();
  const engine = new DagEngine(dag, host, opts);
  host.engine = engine;
  const t0 = performance.now();
  engine.start();
  const r = await engine.result;
  const ms = performance.now() - t0;
  if (r.summary.done !== dag.nodes.length) throw new Error(`${name}: ${r.summary.done} of ${dag.nodes.length} done`);
  console.log(
    `${name.padEnd(44)} ${dag.nodes.length} nodes in ${ms.toFixed(0)} ms = ${((ms * 1000) / dag.nodes.length).toFixed(1)} µs/node` +
      ` (${host.events.length} events) — target < 1000 µs/node: ${ms / dag.nodes.length < 1 ? 'met' : 'NOT met'}`,
  );
}

const plain = layered(N);
await run('jobs only, no throttle', plain);
await run('jobs only, -maxjobs 100', plain, { maxJobs: 100 });
await run('category MAXJOBS 50 + -maxidle 200', layered(N, 'CATEGORY ALL_NODES c\nMAXJOBS c 50\n'), { maxIdle: 200 });
await run(
  'PRE and POST scripts on every node',
  layered(N, 'SCRIPT PRE ALL_NODES pre.sh $JOB\nSCRIPT POST ALL_NODES post.sh $RETURN\n'),
  { maxPre: 20, maxPost: 20 },
);
{
  // restore cost: replaying every event of a finished run
  const host = new InstantHost();
  const engine = new DagEngine(plain, host);
  host.engine = engine;
  engine.start();
  await engine.result;
  const t0 = performance.now();
  DagEngine.restore(plain, host.events, new InstantHost());
  const ms = performance.now() - t0;
  console.log(
    `${'restore from the events of a finished run'.padEnd(44)} ${host.events.length} events in ${ms.toFixed(0)} ms = ${((ms * 1000) / plain.nodes.length).toFixed(1)} µs/node`,
  );
}
