// grammar/submit — HTCondor submit descriptions and #PBS scripts → job ads. The public API (README.md).
import { isAbsolute, resolve } from 'node:path';
import { SubmitLoader, type LoadedSubmit } from './load.js';
import { checkLoaded, finishLoaded, type Checked, type JobStream } from './to-job-ads.js';
import { condorArch, condorOpSys } from '../../lib/platform.js';
import { nowSeconds } from '../../lib/time.js';
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
}

interface SubmitPlanImpl extends SubmitPlan {
  input: SubmitInput;
  loaded?: LoadedSubmit;
  /** the checked expansion; finishLoaded completes it for the real cluster id */
  checked?: Checked;
  pbs?: PbsPlan;
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
  return plan;
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
