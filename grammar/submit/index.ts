// grammar/submit — HTCondor submit descriptions and #PBS scripts → job ads. The public API (README.md).
import { isAbsolute, resolve } from 'node:path';
import { SubmitLoader, type LoadedSubmit } from './load.js';
import { checkLoaded, finishLoaded, type Checked, type JobStream } from './to-job-ads.js';
import { condorArch, condorOpSys } from '../../lib/platform.js';
import { nowSeconds } from '../../lib/time.js';
import { SourceError } from '../../lib/errors.js';
import { expandPbs, isPbsScript, loadPbs, type PbsPlan } from './pbs.js';
import type { JobSet, SubmitInput, SubmitWarning } from './types.js';

export type { JobSet, SubmitInput, SubmitWarning } from './types.js';
export { splitArgs, parseEnv } from './args-env.js';
export { isPbsScript, pbsDurationSeconds } from './pbs.js';
export { parseQuantity, type JobStream } from './to-job-ads.js';

const PLAN = Symbol('SubmitPlan');

/** Everything checked before a cluster id exists (opaque outside this folder). */
export interface SubmitPlan {
  readonly [PLAN]: true;
  /** 'submit' for a submit description, 'pbs' for a #PBS script */
  readonly kind: 'submit' | 'pbs';
  /** how many procs expandSubmit will make */
  readonly procCount: number;
  /** warnings found while loading (expandSubmit returns them again with its own) */
  readonly warnings: readonly SubmitWarning[];
  /** qsub -W block=true: the command waits for the job to end and exits with its exit code */
  readonly block?: boolean;
}

interface SubmitPlanImpl extends SubmitPlan {
  input: SubmitInput;
  loaded?: LoadedSubmit;
  /** the checked expansion; finishLoaded completes it for the real cluster id */
  checked?: Checked;
  pbs?: PbsPlan;
  /** one plan per cluster when the executable changes between queue statements (see clusterPlans) */
  clusters?: SubmitPlanImpl[];
}

/**
 * The queue statements of each cluster, as [first, end) indexes: condor_submit starts a new cluster at a queue
 * statement whose executable differs from the one before. An executable set per proc (from a loop variable)
 * is no cluster's: it stays with the statement before.
 */
function clusterRuns(checked: Checked): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  let cmd: string | undefined;
  checked.groups.forEach((state, i) => {
    const c = state.staticOut.Cmd;
    if (c === undefined) return;
    if (cmd !== undefined && c !== cmd) {
      runs.push([start, i]);
      start = i;
    }
    cmd = c;
  });
  runs.push([start, checked.groups.length]);
  return runs;
}

/** The automatic submit variables condor_submit sets before reading the file. */
function automaticMacros(input: SubmitInput): Map<string, string> {
  const m = new Map<string, string>();
  const opsys = condorOpSys();
  m.set('arch', condorArch());
  m.set('opsys', opsys);
  m.set('opsysandver', opsys === 'LINUX' ? 'LINUX' : opsys);
  m.set('islinux', String(opsys === 'LINUX'));
  m.set('iswindows', String(opsys === 'WINDOWS'));
  m.set('submit_file', input.file === '-' ? '' : isAbsolute(input.file) ? input.file : resolve(input.cwd, input.file));
  m.set('submit_time', String(nowSeconds()));
  m.set('hostname', input.hostname.split('.')[0] ?? input.hostname);
  m.set('full_hostname', input.hostname);
  m.set('username', input.owner);
  m.set('node', '');
  m.set('step', '0');
  m.set('itemindex', '0');
  m.set('row', '0');
  // HTCondor's default JobId macro is $(ClusterId).$(ProcId); expansion sets it per proc
  m.set('jobid', '1.0');
  const d = new Date();
  m.set('year', String(d.getFullYear()));
  m.set('month', String(d.getMonth() + 1).padStart(2, '0'));
  m.set('day', String(d.getDate()).padStart(2, '0'));
  return m;
}

/** Parse and check a submit description or #PBS script; throws SourceError with file:line:column. */
export function loadSubmit(input: SubmitInput): SubmitPlan {
  if (isPbsScript(input.file, input.text) || (input.pbsArgs && input.pbsArgs.length > 0)) {
    const pbs = loadPbs(input);
    const plan: SubmitPlanImpl = {
      [PLAN]: true,
      kind: 'pbs',
      procCount: pbs.procCount,
      warnings: pbs.warnings,
      block: pbs.block,
      input,
      pbs,
    };
    return plan;
  }
  const loaded = new SubmitLoader(input, automaticMacros(input)).load();
  // Expand now, with a stand-in cluster id, so that every error is found before the schedd assigns a
  // cluster; expandSubmit then only redoes what uses $(Cluster).
  const checked = checkLoaded(loaded, input);
  const plan: SubmitPlanImpl = {
    [PLAN]: true,
    kind: 'submit',
    procCount: loaded.total,
    warnings: [...loaded.warnings, ...checked.warnings],
    input,
    loaded,
    checked,
  };
  const runs = clusterRuns(checked);
  if (runs.length > 1) {
    // each cluster checked on its own, its procs numbered from 0; the loader's warnings go with the first
    plan.clusters = runs.map(([from, end], i) => {
      const groups = loaded.groups.slice(from, end);
      const part: LoadedSubmit = {
        ...loaded,
        groups,
        warnings: i ? [] : loaded.warnings,
        total: groups.reduce((n, g) => n + g.items.total, 0),
      };
      const partChecked = checkLoaded(part, input);
      return {
        [PLAN]: true,
        kind: 'submit',
        procCount: part.total,
        warnings: [...part.warnings, ...partChecked.warnings],
        input,
        loaded: part,
        checked: partChecked,
      };
    });
  }
  return plan;
}

/**
 * The clusters a plan makes, each to be expanded with its own cluster id, in order: one, unless a submit
 * description changes its executable between queue statements, where condor_submit makes a cluster for each.
 */
export function clusterPlans(plan: SubmitPlan): SubmitPlan[] {
  return (plan as SubmitPlanImpl).clusters ?? [plan];
}

/**
 * Where only one cluster can be queued (a DAG node, as condor_dagman allows; one HTTP request), a description
 * that changes its executable is refused at the queue statement that would start the second.
 */
export function singleCluster(plan: SubmitPlan, where: string): void {
  const second = (plan as SubmitPlanImpl).clusters?.[1]?.loaded?.groups[0];
  if (!second) return;
  throw new SourceError(
    'SUBMIT_QUEUE',
    `the executable changes before this queue statement, which would start a second cluster: ${where} queues one (give each executable a submit description of its own)`,
    second.site.loc,
    second.site.sourceLine,
  );
}

/** The job ads of a loaded plan for the cluster id the schedd assigned. */
export function expandSubmit(plan: SubmitPlan, clusterId: number): { jobs: JobSet; warnings: SubmitWarning[] } {
  const { jobs, warnings } = expandSubmitStream(plan, clusterId);
  return { jobs: { cluster: jobs.cluster, procs: [...jobs.procs()] }, warnings };
}

/**
 * The same, its procs made one at a time as they are read (`jobs.procs()`): what a large `queue N` is sent
 * from, so that the submitter never holds them all.
 */
export function expandSubmitStream(
  plan: SubmitPlan,
  clusterId: number,
): { jobs: JobStream; warnings: SubmitWarning[] } {
  const p = plan as SubmitPlanImpl;
  if (!p || p[PLAN] !== true) throw new TypeError('expandSubmit: not a plan returned by loadSubmit');
  if (!Number.isInteger(clusterId) || clusterId < 0) throw new RangeError(`expandSubmit: bad cluster id ${clusterId}`);
  if (p.kind === 'pbs') {
    const r = expandPbs(p.pbs!, p.input, clusterId);
    const procs = r.jobs.procs;
    const jobs: JobStream = {
      cluster: r.jobs.cluster,
      count: procs.length,
      plain: procs.every((q, i) => q.ProcId === String(i) && Object.keys(q).length === 1),
      procs: function* () {
        yield* procs;
      },
    };
    return { jobs, warnings: [...p.warnings, ...r.warnings] };
  }
  const e = finishLoaded(p.checked!, p.loaded!, clusterId);
  return { jobs: e.jobs, warnings: [...p.warnings, ...e.warnings] };
}
